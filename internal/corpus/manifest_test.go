package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sandscan/sandscan/trace"
)

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{Runs: []Entry{
		{File: "dropper/b.json.gz", Name: "b", Label: "dropper", Group: "g2"},
		{File: "benign/a.json.gz", Name: "a", Label: "benign", Group: "g1", Base: "busybox"},
	}}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Runs[0].Name != "a" || len(got.Runs) != 2 || got.Schema != ManifestSchema {
		t.Errorf("manifest = %+v (want runs sorted by file)", got)
	}
	first, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	WriteManifest(dir, got)
	second, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if string(first) != string(second) {
		t.Error("writing the same manifest twice gave different bytes")
	}
}

func TestParseManifestRejects(t *testing.T) {
	tests := map[string]string{
		"not json":     `{`,
		"schema":       `{"schema":"other","runs":[]}`,
		"no label":     `{"schema":"sandscan.corpus/v1","runs":[{"file":"a.json.gz","name":"a","group":"g"}]}`,
		"climbs out":   `{"schema":"sandscan.corpus/v1","runs":[{"file":"../etc/passwd","name":"a","label":"x","group":"g"}]}`,
		"absolute":     `{"schema":"sandscan.corpus/v1","runs":[{"file":"/etc/passwd","name":"a","label":"x","group":"g"}]}`,
		"unclean":      `{"schema":"sandscan.corpus/v1","runs":[{"file":"a/../b","name":"a","label":"x","group":"g"}]}`,
		"listed twice": `{"schema":"sandscan.corpus/v1","runs":[{"file":"a","name":"a","label":"x","group":"g"},{"file":"b","name":"a","label":"x","group":"g"}]}`,
		"same file":    `{"schema":"sandscan.corpus/v1","runs":[{"file":"a","name":"a","label":"x","group":"g"},{"file":"a","name":"b","label":"x","group":"g"}]}`,
		"backslash":    `{"schema":"sandscan.corpus/v1","runs":[{"file":"a\\b","name":"a","label":"x","group":"g"}]}`,
	}
	for name, doc := range tests {
		if _, err := ParseManifest(strings.NewReader(doc)); !errors.Is(err, ErrBadCorpus) {
			t.Errorf("%s: err = %v, want ErrBadCorpus", name, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schema":"sandscan.corpus/v1","runs":[{"file":"benign/a.json.gz","name":"a","label":"benign","group":"g"}]}`))
	f.Add([]byte(`{"schema":"sandscan.corpus/v1","runs":[{"file":"../x","name":"a","label":"b","group":"g"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, e := range m.Runs {
			if !filepath.IsLocal(e.File) {
				t.Fatalf("accepted a file outside the corpus: %q", e.File)
			}
		}
	})
}

func TestRunRoundTripAndTrim(t *testing.T) {
	dir := t.TempDir()
	run := &trace.Run{Schema: trace.RunSchema, ID: "r1", Started: time.Unix(10, 0).UTC(),
		Stdout:    trace.Output{Data: []byte(strings.Repeat("x", keepOutput+100)), Size: keepOutput + 100},
		Artifacts: []trace.Artifact{{Name: "a", Data: make([]byte, keepArtifact*2)}},
		Events:    []trace.Event{{Seq: 1, Kind: trace.KindExec, PID: 1, Path: "/bin/sh", Argv: []string{"sh"}}}}
	trim(run)
	if len(run.Stdout.Data) != keepOutput || !run.Stdout.Truncated || len(run.Artifacts[0].Data) != keepArtifact {
		t.Fatalf("trim kept %d output bytes and %d artifact bytes", len(run.Stdout.Data), len(run.Artifacts[0].Data))
	}
	e := Entry{File: "benign/r1.json.gz", Name: "r1", Label: "benign", Group: "g"}
	if err := WriteRun(dir, e, run); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRun(dir, e)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Events, run.Events) || got.ID != "r1" {
		t.Errorf("run changed in the round trip: %+v", got)
	}
	if _, err := ReadRun(dir, Entry{File: "../r1.json.gz"}); !errors.Is(err, ErrBadCorpus) {
		t.Errorf("ReadRun outside the corpus: err = %v", err)
	}
}
