package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/store"
)

// Bounds on what a submitter may ask of the sandbox.
const (
	MaxTimeout = 10 * time.Minute // the workers' cap (worker.DefaultMaxTimeout)
	// maxField bounds a multipart form's text field.
	maxField = 4 << 10
)

// networkModes are the sandbox's modes (sandbox.NetworkModes); the API
// checks them early so a typo is a 400, not a failed job.
var networkModes = []string{"sinkhole", "none"}

// submission is one image to analyse, however it arrived.
type submission struct {
	reason queue.Reason
	digest string
	image  string // the job's Image: what the worker fetches, and its name
	req    analysis.Request
	// force analyses again an image that already has a verdict.
	force bool
}

// admit refuses new work while the queue holds MaxQueued jobs or more.
// Submissions between this check and their enqueue count too, so a burst
// cannot all pass at once; release ends the count.
func (s *Server) admit(ctx context.Context, reason queue.Reason) (release func(), err error) {
	if s.cfg.MaxQueued < 0 {
		return func() {}, nil
	}
	n := s.submitting.Add(1)
	depth, err := s.q.Depth(ctx)
	if err != nil {
		s.submitting.Add(-1)
		return nil, fmt.Errorf("%w: queue depth: %w", errUnavailable, err)
	}
	if depth+int(n)-1 >= s.cfg.MaxQueued {
		s.submitting.Add(-1)
		s.metrics.submitted.WithLabelValues(string(reason), "refused").Inc()
		return nil, &busyError{fmt.Sprintf("%d analyses queued or running, the limit is %d", depth, s.cfg.MaxQueued), s.cfg.RetryAfter}
	}
	return func() { s.submitting.Add(-1) }, nil
}

// submit queues sub unless its digest already has an analysis: one queued
// or running (the queue dedupes those), or, unless forced, a finished one
// with a verdict. created says whether a new analysis was queued.
func (s *Server) submit(ctx context.Context, sub submission) (a Analysis, created bool, err error) {
	if err := queue.ValidateDigest(sub.digest); err != nil {
		return Analysis{}, false, err
	}
	if !sub.force {
		v, err := store.LatestVerdict(ctx, s.st, sub.digest)
		switch {
		case err == nil:
			a, err := s.lookup(ctx, v.Analysis)
			if err != nil {
				a = analysisFromVerdict(v)
			}
			a.Existing = true
			s.metrics.submitted.WithLabelValues(string(sub.reason), "existing").Inc()
			return a, false, nil
		case !errors.Is(err, store.ErrNotFound):
			return Analysis{}, false, fmt.Errorf("latest verdict of %s: %w", sub.digest, err)
		}
	}
	if err := sub.req.Validate(queue.ModeDetonate); err != nil {
		return Analysis{}, false, err
	}
	payload, err := sub.req.Encode()
	if err != nil {
		return Analysis{}, false, err
	}
	now := time.Now().UTC()
	entry := indexEntry{
		ID: queue.NewID(now), Digest: sub.digest, Image: sub.image, Repository: sub.req.Repository,
		Reason: sub.reason, Mode: queue.ModeDetonate, Created: now,
	}
	// The index entry goes first: a job is never queued without one, so
	// listing never misses an analysis; a dedupe removes it again.
	if err := s.putIndex(ctx, entry); err != nil {
		return Analysis{}, false, fmt.Errorf("%w: index: %w", errUnavailable, err)
	}
	job, existing, err := s.q.Enqueue(ctx, queue.Job{
		ID: entry.ID, Digest: sub.digest, Image: sub.image, Reason: sub.reason,
		Mode: queue.ModeDetonate, Payload: payload,
	})
	if err != nil || existing {
		s.deleteIndex(context.WithoutCancel(ctx), entry)
	}
	if err != nil {
		return Analysis{}, false, fmt.Errorf("enqueue: %w", err)
	}
	outcome := "queued"
	if existing {
		outcome = "existing"
		st, err := s.q.Status(ctx, job.ID)
		if err == nil {
			a = s.fromStatus(ctx, st)
			a.Existing = true
			s.metrics.submitted.WithLabelValues(string(sub.reason), outcome).Inc()
			return a, false, nil
		}
	}
	s.metrics.submitted.WithLabelValues(string(sub.reason), outcome).Inc()
	a = fromJob(job, queue.StateQueued)
	a.Repository = sub.req.Repository
	a.Existing = existing
	s.log.Info("analysis queued", "id", job.ID, "digest", job.Digest, "reason", sub.reason, "existing", existing)
	return a, !existing, nil
}

// postAnalysis is POST /v1/analyses: a JSON body names an image in a
// registry; a tar or multipart body uploads an archive.
func (s *Server) postAnalysis(w http.ResponseWriter, r *http.Request) error {
	release, err := s.admit(r.Context(), queue.ReasonAPI)
	if err != nil {
		return err
	}
	defer release()
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var sub submission
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		sub, err = s.jsonSubmission(w, r)
	case mt == "application/x-tar" || mt == "application/tar" || mt == "application/octet-stream":
		sub, err = s.uploadSubmission(w, r, "")
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return fmt.Errorf("%w: multipart body without a boundary", errBadRequest)
		}
		sub, err = s.uploadSubmission(w, r, params["boundary"])
	default:
		return fmt.Errorf("%w: %q: send application/json, application/x-tar or multipart/form-data", errUnsupported, mt)
	}
	if err != nil {
		return err
	}
	a, created, err := s.submit(r.Context(), sub)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusAccepted
		w.Header().Set("Location", a.Links.Self)
	}
	writeJSON(w, status, a)
	return nil
}

// decodeJSON reads one JSON value of at most limit bytes into v; unknown
// fields are refused, so a misspelt option is an error, not ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: empty body", errBadRequest)
		}
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: more than one JSON value", errBadRequest)
	}
	return nil
}

func (s *Server) jsonSubmission(w http.ResponseWriter, r *http.Request) (submission, error) {
	var body SubmitRequest
	if err := decodeJSON(w, r, s.cfg.MaxBody, &body); err != nil {
		return submission{}, err
	}
	opts, err := runOptions(body.Network, body.Timeout)
	if err != nil {
		return submission{}, err
	}
	if body.Image == "" {
		return submission{}, fmt.Errorf("%w: no image", errBadRequest)
	}
	res, err := s.resolver.Resolve(r.Context(), body.Image, body.Credentials)
	if err != nil {
		return submission{}, err
	}
	req := analysis.Request{
		Source: analysis.FromRegistry, Ref: pinned(res), Repository: res.Repository,
		Network: opts.network, Timeout: opts.timeout,
	}
	if c := body.Credentials; c != nil && c.Username != "" {
		req.Credentials = &analysis.Credentials{Username: c.Username, Password: c.Password}
	}
	return submission{reason: queue.ReasonAPI, digest: res.Digest, image: req.Ref, req: req, force: body.Force}, nil
}

// pinned names a resolved image by tag and digest: the digest decides
// what is pulled, the tag stays for people reading the report.
func pinned(res Resolved) string {
	if res.Tag != "" && !strings.HasPrefix(res.Tag, "sha256:") {
		return res.Repository + ":" + res.Tag + "@" + res.Digest
	}
	return res.Ref
}

type runOpts struct {
	network string
	timeout time.Duration
}

// runOptions checks the per-submission overrides of the sandbox.
func runOptions(network, timeout string) (runOpts, error) {
	var o runOpts
	if network != "" {
		ok := false
		for _, m := range networkModes {
			ok = ok || m == network
		}
		if !ok {
			return o, fmt.Errorf("%w: network %q (have %s)", errBadRequest, network, strings.Join(networkModes, ", "))
		}
		o.network = network
	}
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil {
			if secs, err2 := strconv.Atoi(timeout); err2 == nil {
				d, err = time.Duration(secs)*time.Second, nil
			}
		}
		if err != nil || d <= 0 || d > MaxTimeout {
			return o, fmt.Errorf("%w: timeout %q: a duration up to %s", errBadRequest, timeout, MaxTimeout)
		}
		o.timeout = d
	}
	return o, nil
}

// uploadSubmission streams an uploaded archive to a temporary file (never
// to memory), checks it with the archive package, and keeps it in the
// store by digest, where the worker will read it. An empty boundary means
// the body is the tar itself, with options in the query string.
func (s *Server) uploadSubmission(w http.ResponseWriter, r *http.Request, boundary string) (submission, error) {
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		return submission{}, &busyError{fmt.Sprintf("%d uploads under way", cap(s.uploads)), s.cfg.RetryAfter}
	}
	if r.ContentLength > s.cfg.MaxUpload {
		return submission{}, fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, r.ContentLength, s.cfg.MaxUpload)
	}
	body := io.Reader(http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload))
	body = &idleReader{r: body, rc: http.NewResponseController(w), idle: s.cfg.UploadIdle}
	tmp, err := os.CreateTemp(s.cfg.UploadDir, "sandscan-upload-*.tar")
	if err != nil {
		return submission{}, fmt.Errorf("%w: upload file: %w", errUnavailable, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	q := r.URL.Query()
	network, timeout, force, filename := q.Get("network"), q.Get("timeout"), q.Get("force"), ""
	if boundary == "" {
		if _, err := io.Copy(tmp, body); err != nil {
			return submission{}, fmt.Errorf("upload: %w", err)
		}
	} else {
		fields := map[string]*string{"network": &network, "timeout": &timeout, "force": &force}
		if filename, err = readMultipart(multipart.NewReader(body, boundary), tmp, fields); err != nil {
			return submission{}, err
		}
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return submission{}, err
	}
	if size == 0 {
		return submission{}, fmt.Errorf("%w: empty upload", errBadRequest)
	}
	opts, err := runOptions(network, timeout)
	if err != nil {
		return submission{}, err
	}
	info, err := archive.Inspect(tmp, size)
	if err != nil {
		return submission{}, err
	}
	key, err := store.ImageKey(info.ManifestDigest)
	if err != nil {
		return submission{}, err
	}
	if _, err := s.st.Stat(r.Context(), key); errors.Is(err, store.ErrNotFound) {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return submission{}, err
		}
		if err := s.st.Put(r.Context(), key, io.LimitReader(tmp, size), size); err != nil {
			return submission{}, fmt.Errorf("%w: store the archive: %w", errUnavailable, err)
		}
	} else if err != nil {
		return submission{}, fmt.Errorf("%w: store: %w", errUnavailable, err)
	}
	format := analysis.FormatOCI
	if info.Format == archive.FormatDocker {
		format = analysis.FormatDocker
	}
	name := info.Ref
	if name == "" && len(info.Refs) > 0 {
		name = info.Refs[0]
	}
	repo := ""
	if name != "" {
		if ref, err := parseRef(name, nil); err == nil {
			repo = repositoryOf(ref.Context())
		}
	} else {
		name = filename
	}
	req := analysis.Request{Source: analysis.FromStore, Format: format, Ref: name, Repository: repo,
		Network: opts.network, Timeout: opts.timeout}
	forced, _ := strconv.ParseBool(force)
	s.log.Info("archive uploaded", "digest", info.ManifestDigest, "format", format, "bytes", size)
	return submission{reason: queue.ReasonAPI, digest: info.ManifestDigest, image: name, req: req, force: forced}, nil
}

// idleReader moves the connection's read deadline forward before each
// read.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	i.rc.SetReadDeadline(time.Now().Add(i.idle)) // unsupported writers just keep no deadline
	return i.r.Read(p)
}

// readMultipart copies the form's file part to dst and its small text
// fields into fields; other fields are refused.
func readMultipart(mr *multipart.Reader, dst io.Writer, fields map[string]*string) (filename string, err error) {
	gotFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: multipart: %w", errBadRequest, err)
		}
		switch field := part.FormName(); {
		case field == "file" || part.FileName() != "":
			if gotFile {
				return "", fmt.Errorf("%w: more than one file", errBadRequest)
			}
			gotFile = true
			filename = path.Base(part.FileName())
			if len(filename) > 255 {
				filename = filename[:255]
			}
			if _, err := io.Copy(dst, part); err != nil {
				return "", fmt.Errorf("upload: %w", err)
			}
		case fields[field] != nil:
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				return "", fmt.Errorf("%w: multipart: %w", errBadRequest, err)
			}
			if len(b) > maxField {
				return "", fmt.Errorf("%w: field %q over %d bytes", errBadRequest, field, maxField)
			}
			*fields[field] = string(b)
		default:
			return "", fmt.Errorf("%w: unknown form field %.64q", errBadRequest, field)
		}
		part.Close()
	}
	if !gotFile {
		return "", fmt.Errorf("%w: no file in the form (field \"file\")", errBadRequest)
	}
	if filename == "." || filename == "/" {
		filename = ""
	}
	return filename, nil
}
