package corpus

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sandscan/sandscan/internal/atomicfile"
	"github.com/sandscan/sandscan/trace"
)

// ManifestSchema names the manifest format; ManifestFile is its name in a
// corpus directory.
const (
	ManifestSchema = "sandscan.corpus/v1"
	ManifestFile   = "labels.json"
)

// Limits for reading a corpus, which may come from anywhere.
const (
	maxManifestBytes = 16 << 20
	maxRunBytes      = 256 << 20 // decompressed
	maxEntries       = 100000
)

// Entry is one labelled run of a corpus.
type Entry struct {
	// File is the gzipped Run, relative to the corpus directory:
	// <label>/<name>.json.gz.
	File     string `json:"file"`
	Name     string `json:"name"`
	Label    string `json:"label"`
	Group    string `json:"group"`
	Base     string `json:"base,omitempty"`
	Describe string `json:"describe,omitempty"`
}

// Manifest lists a corpus's runs and their labels.
type Manifest struct {
	Schema string  `json:"schema"`
	Note   string  `json:"note,omitempty"`
	Runs   []Entry `json:"runs"`
}

// ErrBadCorpus wraps every reason a corpus is refused.
var ErrBadCorpus = errors.New("corpus: bad corpus")

// ParseManifest reads and checks a manifest: names and files must be
// unique, labels and groups set, and every file a relative path inside the
// corpus (no "..", no absolute path).
func ParseManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("corpus: read manifest: %w", err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%w: manifest larger than %d bytes", ErrBadCorpus, maxManifestBytes)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrBadCorpus, err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("%w: manifest schema %q, want %q", ErrBadCorpus, m.Schema, ManifestSchema)
	}
	if len(m.Runs) > maxEntries {
		return nil, fmt.Errorf("%w: %d runs", ErrBadCorpus, len(m.Runs))
	}
	names, files := map[string]bool{}, map[string]bool{}
	for i, e := range m.Runs {
		switch {
		case e.Name == "" || e.Label == "" || e.Group == "":
			return nil, fmt.Errorf("%w: run %d lacks a name, label or group", ErrBadCorpus, i)
		case !localPath(e.File):
			return nil, fmt.Errorf("%w: run %s: file %q is not a path inside the corpus", ErrBadCorpus, e.Name, e.File)
		case names[e.Name] || files[e.File]:
			return nil, fmt.Errorf("%w: run %s listed twice", ErrBadCorpus, e.Name)
		}
		names[e.Name], files[e.File] = true, true
	}
	return &m, nil
}

func localPath(p string) bool {
	return p != "" && !strings.ContainsRune(p, 0) && !strings.Contains(p, `\`) && filepath.IsLocal(p) && path.Clean(p) == p
}

// ReadManifest reads dir/labels.json.
func ReadManifest(dir string) (*Manifest, error) {
	f, err := os.Open(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	return ParseManifest(f)
}

// WriteManifest writes dir/labels.json with the runs sorted by file, so
// the same corpus always gives the same bytes.
func WriteManifest(dir string, m *Manifest) error {
	m.Schema = ManifestSchema
	slices.SortFunc(m.Runs, func(a, b Entry) int { return strings.Compare(a.File, b.File) })
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// ReadRun reads one run of the corpus.
func ReadRun(dir string, e Entry) (*trace.Run, error) {
	if !localPath(e.File) {
		return nil, fmt.Errorf("%w: file %q", ErrBadCorpus, e.File)
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(e.File)))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadCorpus, e.File, err)
	}
	run, err := trace.Decode(io.LimitReader(zr, maxRunBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadCorpus, e.File, err)
	}
	return run, nil
}

// WriteRun stores run gzipped at dir/e.File.
func WriteRun(dir string, e Entry, run *trace.Run) error {
	p := filepath.Join(dir, filepath.FromSlash(e.File))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	var buf strings.Builder
	if err := trace.Encode(&buf, run); err != nil {
		return err
	}
	var gz strings.Builder
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	io.WriteString(zw, buf.String())
	if err := zw.Close(); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, []byte(gz.String()))
}
