package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sandscan/sandscan/api"
)

// Client talks to one Sandscan server.
type Client struct {
	base        *url.URL
	token       string
	http        *http.Client
	busyRetries int
	maxBusyWait time.Duration
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient replaces http.DefaultClient.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithBusyRetries makes submissions refused with 429 try again up to n
// times, each after the server's Retry-After (at most maxWait).
func WithBusyRetries(n int, maxWait time.Duration) Option {
	return func(c *Client) { c.busyRetries, c.maxBusyWait = n, maxWait }
}

// New returns a client of the server at server (http(s)://host[:port])
// presenting token.
func New(server, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server %q: want http(s)://host[:port]", server)
	}
	c := &Client{base: u, token: token, http: http.DefaultClient, maxBusyWait: time.Minute}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an answer other than 2xx, with its problem document.
type Error struct {
	StatusCode int
	Problem    api.Problem
	// RetryAfter is the server's Retry-After, for 429 and 503.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := e.Problem.Title
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if e.Problem.Detail != "" {
		msg += ": " + e.Problem.Detail
	}
	return fmt.Sprintf("server answered %d: %s", e.StatusCode, msg)
}

// IsStatus reports whether err is an *Error with status code code.
func IsStatus(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == code
}

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends one request and returns the response of a 2xx answer; other
// answers become *Error.
func (c *Client) do(ctx context.Context, method, u string, body io.Reader, size int64, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	e := &Error{StatusCode: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e.Problem) != nil || e.Problem.Title == "" {
		e.Problem = api.Problem{Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: strings.TrimSpace(string(b))}
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return nil, e
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	resp, err := c.do(ctx, http.MethodGet, c.url(path, q), nil, 0, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, out)
}

func decode(resp *http.Response, out any) error {
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("client: %s: %w", resp.Request.URL.Path, err)
	}
	return nil
}

// retryBusy runs call again while it is refused with 429, as configured.
func (c *Client) retryBusy(ctx context.Context, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != http.StatusTooManyRequests || attempt >= c.busyRetries {
			return err
		}
		wait := min(max(e.RetryAfter, time.Second), c.maxBusyWait)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// Submit asks for an analysis of an image in a registry.
func (c *Client) Submit(ctx context.Context, req api.SubmitRequest) (api.Analysis, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return api.Analysis{}, err
	}
	var a api.Analysis
	err = c.retryBusy(ctx, func() error {
		resp, err := c.do(ctx, http.MethodPost, c.url("/v1/analyses", nil), bytes.NewReader(body), int64(len(body)), "application/json")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return decode(resp, &a)
	})
	return a, err
}

// UploadOptions tune an upload.
type UploadOptions struct {
	Network string
	Timeout string
	Force   bool
	// Progress, when set, is called as bytes go out (sent of total).
	Progress func(sent, total int64)
}

// Upload sends the OCI or docker archive at path, streamed from the file.
func (c *Client) Upload(ctx context.Context, path string, opts UploadOptions) (api.Analysis, error) {
	q := url.Values{}
	if opts.Network != "" {
		q.Set("network", opts.Network)
	}
	if opts.Timeout != "" {
		q.Set("timeout", opts.Timeout)
	}
	if opts.Force {
		q.Set("force", "true")
	}
	var a api.Analysis
	err := c.retryBusy(ctx, func() error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("client: %s is not a file", filepath.Base(path))
		}
		var body io.Reader = f
		if opts.Progress != nil {
			body = &progressReader{r: f, total: fi.Size(), fn: opts.Progress}
		}
		resp, err := c.do(ctx, http.MethodPost, c.url("/v1/analyses", q), body, fi.Size(), "application/x-tar")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return decode(resp, &a)
	})
	return a, err
}

type progressReader struct {
	r     io.Reader
	sent  int64
	total int64
	fn    func(sent, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += int64(n)
	p.fn(p.sent, p.total)
	return n, err
}

// Analysis returns an analysis's status.
func (c *Client) Analysis(ctx context.Context, id string) (api.Analysis, error) {
	var a api.Analysis
	return a, c.getJSON(ctx, "/v1/analyses/"+url.PathEscape(id), nil, &a)
}

// List returns a page of analyses; query takes verdict, repository,
// status, limit and cursor.
func (c *Client) List(ctx context.Context, query url.Values) (api.AnalysisList, error) {
	var l api.AnalysisList
	return l, c.getJSON(ctx, "/v1/analyses", query, &l)
}

// Verdict returns the latest verdict of an image digest.
func (c *Client) Verdict(ctx context.Context, digest string) (api.Verdict, error) {
	var v api.Verdict
	return v, c.getJSON(ctx, "/v1/images/"+url.PathEscape(digest)+"/verdict", nil, &v)
}

// Report copies an analysis's report in format (json, sarif, navigator)
// to w.
func (c *Client) Report(ctx context.Context, id, format string, w io.Writer) error {
	q := url.Values{}
	if format != "" {
		q.Set("format", format)
	}
	resp, err := c.do(ctx, http.MethodGet, c.url("/v1/analyses/"+url.PathEscape(id)+"/report", q), nil, 0, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("client: report: %w", err)
	}
	return nil
}

// Finished reports whether an analysis's status is final.
func Finished(a api.Analysis) bool {
	switch a.Status {
	case "done", "failed", "dead":
		return true
	}
	return false
}

// WaitOptions tune Wait.
type WaitOptions struct {
	// First and Max bound the polling interval, which grows by half each
	// poll: 500 ms and 10 s when zero.
	First, Max time.Duration
	// OnPoll, when set, sees every status fetched.
	OnPoll func(api.Analysis)
}

// Wait polls an analysis until it is done, failed or dead, or ctx ends.
// A server that is briefly unreachable or busy is polled again.
func (c *Client) Wait(ctx context.Context, id string, opts WaitOptions) (api.Analysis, error) {
	interval := opts.First
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	most := opts.Max
	if most <= 0 {
		most = 10 * time.Second
	}
	var last api.Analysis
	for {
		a, err := c.Analysis(ctx, id)
		switch {
		case err == nil:
			last = a
			if opts.OnPoll != nil {
				opts.OnPoll(a)
			}
			if Finished(a) {
				return a, nil
			}
		case transient(err) && last.ID != "":
			// Poll again: a restarting server is no reason to give up.
		default:
			return last, err
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(interval):
		}
		interval = min(interval*3/2, most)
	}
}

// transient errors are worth another poll.
func transient(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable ||
			e.StatusCode == http.StatusBadGateway || e.StatusCode == http.StatusGatewayTimeout
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
