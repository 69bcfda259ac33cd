package worker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/trace"
)

// writeAnalysis stores the objects of analysis id and returns their keys.
// With evidence it writes the run (gzipped), stdout, stderr, the fs diff
// archive and the dropped files first; then the SARIF and Navigator
// reports, and report.json LAST: each Put is atomic, so an analysis whose
// report.json is visible is complete.
func writeAnalysis(ctx context.Context, st store.Store, id string, run *trace.Run, rep *analyzer.Report, evidence bool) ([]string, error) {
	var keys []string
	put := func(a store.Artifact, data []byte) error {
		k, err := store.AnalysisKey(id, a)
		if err != nil {
			return err
		}
		if err := st.Put(ctx, k, bytes.NewReader(data), int64(len(data))); err != nil {
			return fmt.Errorf("worker: store %s: %w", k, err)
		}
		keys = append(keys, k)
		return nil
	}
	if evidence {
		k, err := store.AnalysisKey(id, store.ArtifactRun)
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(trace.Encode(pw, run)) }()
		err = store.PutGzip(ctx, st, k, pr)
		pr.CloseWithError(io.ErrClosedPipe)
		if err != nil {
			return nil, fmt.Errorf("worker: store %s: %w", k, err)
		}
		keys = append(keys, k)
		if err := put(store.ArtifactStdout, run.Stdout.Data); err != nil {
			return nil, err
		}
		if err := put(store.ArtifactStderr, run.Stderr.Data); err != nil {
			return nil, err
		}
		var diff bytes.Buffer
		if err := writeFSDiff(&diff, run); err != nil {
			return nil, fmt.Errorf("worker: fs diff archive: %w", err)
		}
		if err := put(store.ArtifactFSDiff, diff.Bytes()); err != nil {
			return nil, err
		}
		for _, a := range run.Artifacts {
			k, err := store.DroppedFileKey(id, artifactPath(run, a))
			if err != nil {
				return nil, err
			}
			if err := st.Put(ctx, k, bytes.NewReader(a.Data), int64(len(a.Data))); err != nil {
				return nil, fmt.Errorf("worker: store %s: %w", k, err)
			}
			keys = append(keys, k)
		}
	}
	for _, f := range []struct {
		a   store.Artifact
		fmt analyzer.Format
	}{
		{store.ArtifactSARIF, analyzer.FormatSARIF},
		{store.ArtifactNavigator, analyzer.FormatNavigator},
		{store.ArtifactReport, analyzer.FormatJSON}, // last
	} {
		var b bytes.Buffer
		if err := f.fmt.Write(&b, rep); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
		if err := put(f.a, b.Bytes()); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// artifactPath is where a dropped file's object is keyed: its path in
// the sandbox for files of the diff, its name for the others (the
// network capture, whose Path is the host's).
func artifactPath(run *trace.Run, a trace.Artifact) string {
	for _, f := range run.Files {
		if f.Artifact == a.Name {
			return f.Path
		}
	}
	return a.Name
}

// putVerdict files rep as the latest verdict of digest, keeping history.
func putVerdict(ctx context.Context, st store.Store, digest, id string, rep *analyzer.Report) error {
	v := store.Verdict{
		Digest:          digest,
		Analysis:        id,
		Verdict:         string(rep.Verdict),
		Score:           rep.Score,
		Techniques:      techniqueIDs(rep),
		AnalyzerVersion: rep.Analyzer.Analyzer,
		Time:            time.Now().UTC(),
	}
	if err := store.PutVerdict(ctx, st, v); err != nil {
		return fmt.Errorf("worker: store verdict: %w", err)
	}
	return nil
}

func techniqueIDs(rep *analyzer.Report) []string {
	ids := make([]string, 0, len(rep.Techniques))
	for _, t := range rep.Techniques {
		ids = append(ids, t.ID)
	}
	return ids
}

func resultOf(rep *analyzer.Report, runID string, keys []string) analysis.Result {
	return analysis.Result{
		Verdict:         string(rep.Verdict),
		Score:           rep.Score,
		Techniques:      techniqueIDs(rep),
		RunID:           runID,
		AnalyzerVersion: rep.Analyzer.Analyzer,
		RulesVersion:    rep.Analyzer.Rules,
		Model:           rep.Analyzer.Model,
		Finished:        time.Now().UTC(),
		Artifacts:       keys,
	}
}

// PAX records fsdiff.tar adds to its entries (vendor namespace SANDSCAN).
const (
	paxOp        = "SANDSCAN.op"        // created or modified
	paxSize      = "SANDSCAN.size"      // the file's size in the sandbox
	paxSHA256    = "SANDSCAN.sha256"    // of the whole file, when known
	paxContent   = "SANDSCAN.content"   // "absent" when no copy was kept
	paxTruncated = "SANDSCAN.truncated" // "true" when the copy is cut short
)

// writeFSDiff writes the run's filesystem diff as a tar in the OCI layer
// convention: created and modified files, directories and symlinks as
// entries with their mode and owners, deleted paths as ".wh." whiteouts.
// A file's content is the copy the run kept (its Artifact), possibly cut
// at the artifact cap; a file without a copy is an empty entry marked
// SANDSCAN.content=absent. Size and hash of the real file are in PAX
// records. Paths come from the sandbox: they are cleaned and kept inside
// the archive.
func writeFSDiff(w io.Writer, run *trace.Run) error {
	data := make(map[string]*trace.Artifact, len(run.Artifacts))
	for i := range run.Artifacts {
		data[run.Artifacts[i].Name] = &run.Artifacts[i]
	}
	tw := tar.NewWriter(w)
	mtime := run.Ended
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	for _, f := range run.Files {
		name, ok := tarName(f.Path)
		if !ok {
			continue
		}
		hdr := &tar.Header{
			Name: name, Mode: int64(f.Mode & 0o7777), Uid: int(f.UID), Gid: int(f.GID),
			ModTime: mtime, Format: tar.FormatPAX, PAXRecords: map[string]string{paxOp: f.Op},
		}
		var body []byte
		switch {
		case f.Op == trace.FileDeleted:
			dir, base := path.Split(name)
			hdr = &tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}
		case f.Type == trace.TypeDir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case f.Type == trace.TypeSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.Link
		case f.Type == trace.TypeFile:
			hdr.Typeflag = tar.TypeReg
			hdr.PAXRecords[paxSize] = strconv.FormatInt(f.Size, 10)
			if f.SHA256 != "" {
				hdr.PAXRecords[paxSHA256] = f.SHA256
			}
			if a := data[f.Artifact]; f.Artifact != "" && a != nil {
				body = a.Data
				if a.Truncated || int64(len(a.Data)) < f.Size {
					hdr.PAXRecords[paxTruncated] = "true"
				}
			} else {
				hdr.PAXRecords[paxContent] = "absent"
			}
		default:
			// Devices, FIFOs and sockets: recorded, never recreated.
			hdr.Typeflag = tar.TypeReg
			hdr.PAXRecords[paxContent] = "absent"
			hdr.PAXRecords["SANDSCAN.type"] = f.Type
		}
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
	}
	return tw.Close()
}

// tarName makes a sandbox path a relative archive name, refusing what
// would name the root or climb out of it.
func tarName(p string) (string, bool) {
	clean := path.Clean("/" + p)
	name := strings.TrimPrefix(clean, "/")
	if name == "" || strings.ContainsRune(name, 0) {
		return "", false
	}
	return name, true
}
