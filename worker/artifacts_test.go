package worker

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sandscan/sandscan/trace"
)

type tarEntry struct {
	hdr  *tar.Header
	body string
}

func readTar(t testing.TB, b []byte) map[string]tarEntry {
	t.Helper()
	out := map[string]tarEntry{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("fsdiff.tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = tarEntry{h, string(body)}
	}
}

func TestWriteFSDiff(t *testing.T) {
	run := &trace.Run{
		Ended: time.Unix(1700000000, 0),
		Files: []trace.FileChange{
			{Path: "/etc/cron.d/job", Op: trace.FileCreated, Type: trace.TypeFile, Mode: 0o644, Size: 12, SHA256: "aa", Artifact: "a1"},
			{Path: "/tmp/.kworker", Op: trace.FileCreated, Type: trace.TypeFile, Mode: 0o4755, Size: 5000, Artifact: "a2"},
			{Path: "/var/big", Op: trace.FileModified, Type: trace.TypeFile, Mode: 0o600, UID: 1000, GID: 1000, Size: 1 << 30},
			{Path: "/var/tmp/gone", Op: trace.FileDeleted, Type: trace.TypeFile},
			{Path: "/root/.ssh", Op: trace.FileCreated, Type: trace.TypeDir, Mode: 0o700},
			{Path: "/usr/bin/evil", Op: trace.FileCreated, Type: trace.TypeSymlink, Link: "/tmp/.kworker"},
			{Path: "/dev/fifo", Op: trace.FileCreated, Type: trace.TypeOther},
			{Path: "/../../../etc/passwd", Op: trace.FileModified, Type: trace.TypeFile, Size: 1},
			{Path: "/", Op: trace.FileModified, Type: trace.TypeDir},
		},
		Artifacts: []trace.Artifact{
			{Name: "a1", Path: "/etc/cron.d/job", Data: []byte("* * * * * x\n"), Size: 12},
			{Name: "a2", Path: "/tmp/.kworker", Data: []byte("ELF"), Size: 5000, Truncated: true},
		},
	}
	var b bytes.Buffer
	if err := writeFSDiff(&b, run); err != nil {
		t.Fatal(err)
	}
	got := readTar(t, b.Bytes())
	tests := []struct {
		name   string
		typ    byte
		body   string
		mode   int64
		pax    map[string]string
		nopax  []string
		link   string
		uidgid int
	}{
		{name: "etc/cron.d/job", typ: tar.TypeReg, body: "* * * * * x\n", mode: 0o644,
			pax: map[string]string{paxOp: "created", paxSize: "12", paxSHA256: "aa"}, nopax: []string{paxTruncated, paxContent}},
		{name: "tmp/.kworker", typ: tar.TypeReg, body: "ELF", mode: 0o4755, pax: map[string]string{paxTruncated: "true", paxSize: "5000"}},
		{name: "var/big", typ: tar.TypeReg, mode: 0o600, uidgid: 1000, pax: map[string]string{paxOp: "modified", paxContent: "absent"}},
		{name: "var/tmp/.wh.gone", typ: tar.TypeReg},
		{name: "root/.ssh/", typ: tar.TypeDir, mode: 0o700},
		{name: "usr/bin/evil", typ: tar.TypeSymlink, link: "/tmp/.kworker"},
		{name: "dev/fifo", typ: tar.TypeReg, pax: map[string]string{paxContent: "absent", "SANDSCAN.type": "other"}},
		{name: "etc/passwd", typ: tar.TypeReg},
	}
	for _, tt := range tests {
		e, ok := got[tt.name]
		if !ok {
			t.Errorf("%s missing; have %v", tt.name, keys(got))
			continue
		}
		h := e.hdr
		if h.Typeflag != tt.typ || e.body != tt.body || h.Linkname != tt.link || h.Uid != tt.uidgid || h.Gid != tt.uidgid {
			t.Errorf("%s: type %c body %q link %q uid %d gid %d", tt.name, h.Typeflag, e.body, h.Linkname, h.Uid, h.Gid)
		}
		if tt.mode != 0 && h.Mode != tt.mode {
			t.Errorf("%s: mode %o, want %o", tt.name, h.Mode, tt.mode)
		}
		for k, v := range tt.pax {
			if h.PAXRecords[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, h.PAXRecords[k], v)
			}
		}
		for _, k := range tt.nopax {
			if _, ok := h.PAXRecords[k]; ok {
				t.Errorf("%s: unexpected %s", tt.name, k)
			}
		}
	}
	if len(got) != len(tests) {
		t.Errorf("%d entries, want %d: %v", len(got), len(tests), keys(got))
	}
}

func keys(m map[string]tarEntry) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestTarName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/etc/passwd", "etc/passwd", true},
		{"etc/x", "etc/x", true},
		{"/a/../../b", "b", true},
		{"/a//b/./c", "a/b/c", true},
		{"/", "", false},
		{"..", "", false},
		{"", "", false},
		{"/a\x00b", "", false},
	}
	for _, tt := range tests {
		got, ok := tarName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("tarName(%q) = %q %v, want %q %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzFSDiff: whatever paths, types and links a sandbox reports, the
// archive is well formed and no entry names the root or climbs out.
func FuzzFSDiff(f *testing.F) {
	f.Add("/etc/x", "file", "created", "", []byte("data"))
	f.Add("/../../x", "symlink", "created", "../../../etc/shadow", []byte(nil))
	f.Add("/a/b", "dir", "deleted", "", []byte(nil))
	f.Fuzz(func(t *testing.T, path, typ, op, link string, data []byte) {
		run := &trace.Run{
			Files:     []trace.FileChange{{Path: path, Type: typ, Op: op, Link: link, Artifact: "a", Size: int64(len(data))}},
			Artifacts: []trace.Artifact{{Name: "a", Data: data}},
		}
		var b bytes.Buffer
		if err := writeFSDiff(&b, run); err != nil {
			// archive/tar refuses some names and links (NULs, say): an
			// error, never a malformed archive.
			return
		}
		for name := range readTar(t, b.Bytes()) {
			if name == "" || strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
				t.Fatalf("entry %q from path %q", name, path)
			}
		}
	})
}

func TestArtifactPath(t *testing.T) {
	run := &trace.Run{
		Files:   []trace.FileChange{{Path: "/tmp/x", Artifact: "sha-x"}},
		Network: &trace.Network{PCAP: "capture.pcap"},
	}
	if got := artifactPath(run, trace.Artifact{Name: "sha-x", Path: "/tmp/x"}); got != "/tmp/x" {
		t.Errorf("file artifact keyed by %q", got)
	}
	if got := artifactPath(run, trace.Artifact{Name: "capture.pcap", Path: "/var/lib/sandscan/work/r/capture.pcap"}); got != "capture.pcap" {
		t.Errorf("capture keyed by %q, want its name, not the host path", got)
	}
}
