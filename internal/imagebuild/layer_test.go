package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var epoch = time.Unix(0, 0).UTC()

// readTar returns the headers and regular-file contents of a tar stream.
func readTar(t *testing.T, r io.Reader) ([]*tar.Header, map[string]string) {
	t.Helper()
	tr := tar.NewReader(r)
	var hdrs []*tar.Header
	data := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, data
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			data[h.Name] = string(b)
		}
	}
}

func entriesTar(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeTar(&buf, entries); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPlanFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte("from host"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []File{
		{Path: "/usr/local/bin/tool", Content: []byte("#!/bin/sh\n"), Mode: 0o755},
		{Path: "/etc/host-copy", Source: src},
		{Path: "/bin/sh", Link: "busybox"},
		{Path: "/tmp", Dir: true, Mode: 0o1777 & 0o777},
		{Path: "/etc/empty", Content: []byte{}},
		{Path: "/etc/shadow", Content: []byte("x"), Mode: 0o640, GID: 42},
	}
	entries, err := planFiles(files, epoch)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, data := readTar(t, bytes.NewReader(entriesTar(t, entries)))
	var names []string
	byName := map[string]*tar.Header{}
	for _, h := range hdrs {
		names = append(names, h.Name)
		byName[h.Name] = h
		if !h.ModTime.Equal(epoch) || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %v uname %q gname %q, want epoch and no names", h.Name, h.ModTime, h.Uname, h.Gname)
		}
	}
	want := "bin/ bin/sh etc/ etc/empty etc/host-copy etc/shadow tmp/ usr/ usr/local/ usr/local/bin/ usr/local/bin/tool"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries:\n got %s\nwant %s", got, want)
	}
	checks := []struct {
		name     string
		typ      byte
		mode     int64
		gid      int
		content  string
		linkname string
	}{
		{name: "usr/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/local/bin/tool", typ: tar.TypeReg, mode: 0o755, content: "#!/bin/sh\n"},
		{name: "etc/host-copy", typ: tar.TypeReg, mode: 0o644, content: "from host"},
		{name: "etc/empty", typ: tar.TypeReg, mode: 0o644},
		{name: "etc/shadow", typ: tar.TypeReg, mode: 0o640, gid: 42, content: "x"},
		{name: "bin/sh", typ: tar.TypeSymlink, mode: 0o777, linkname: "busybox"},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o777},
	}
	for _, c := range checks {
		h := byName[c.name]
		if h == nil {
			t.Errorf("%s missing", c.name)
			continue
		}
		if h.Typeflag != c.typ || h.Mode != c.mode || h.Gid != c.gid || h.Linkname != c.linkname || data[c.name] != c.content {
			t.Errorf("%s: type %c mode %o gid %d link %q content %q; want %c %o %d %q %q",
				c.name, h.Typeflag, h.Mode, h.Gid, h.Linkname, data[c.name], c.typ, c.mode, c.gid, c.linkname, c.content)
		}
	}
}

func TestPlanFilesErrors(t *testing.T) {
	tests := []struct {
		name  string
		files []File
		want  string
	}{
		{"duplicate", []File{{Path: "/a", Content: []byte("1")}, {Path: "a", Content: []byte("2")}}, "listed twice"},
		{"dir and link", []File{{Path: "/a", Dir: true, Link: "b"}}, "only one"},
		{"link and content", []File{{Path: "/a", Link: "b", Content: []byte("x")}}, "only one"},
		{"file under file", []File{{Path: "/a", Content: []byte("x")}, {Path: "/a/b", Content: []byte("y")}}, "not a directory"},
		{"escape", []File{{Path: "/../etc/passwd", Content: []byte("x")}}, "climbs out"},
		{"missing source", []File{{Path: "/a", Source: "/nonexistent/sandscan-test"}}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := planFiles(tt.files, epoch)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// makeRootfs lays out a small root filesystem with the awkward cases:
// symlinks that point out of the tree, a hard link, a fifo and a socket.
func makeRootfs(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "rootfs")
	outside = filepath.Join(base, "secret")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("host secret"), 0o600))
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=test\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte("tool"), 0o755))
	must(os.Link(filepath.Join(root, "usr/bin/tool"), filepath.Join(root, "usr/bin/tool2")))
	must(os.Symlink(outside, filepath.Join(root, "etc/abs-link")))
	must(os.Symlink("../../secret", filepath.Join(root, "etc/rel-link")))
	must(os.Symlink(filepath.Dir(outside), filepath.Join(root, "dirlink")))
	must(syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o600))
	must(os.Chown(filepath.Join(root, "etc/os-release"), 1000, 1001))
	l, err := net.Listen("unix", filepath.Join(root, "sock"))
	must(err)
	t.Cleanup(func() { l.Close() })
	return root, outside
}

func TestPlanDir(t *testing.T) {
	root, outside := makeRootfs(t)
	entries, err := planDir(context.Background(), root, epoch)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, data := readTar(t, bytes.NewReader(entriesTar(t, entries)))
	byName := map[string]*tar.Header{}
	var names []string
	for _, h := range hdrs {
		byName[h.Name] = h
		names = append(names, h.Name)
	}
	want := "dirlink etc/ etc/abs-link etc/fifo etc/os-release etc/rel-link usr/ usr/bin/ usr/bin/tool usr/bin/tool2"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries:\n got %s\nwant %s", got, want)
	}
	for _, c := range []struct {
		name, link string
		typ        byte
	}{
		{"etc/abs-link", outside, tar.TypeSymlink},
		{"etc/rel-link", "../../secret", tar.TypeSymlink},
		{"dirlink", filepath.Dir(outside), tar.TypeSymlink},
		{"usr/bin/tool2", "usr/bin/tool", tar.TypeLink},
		{"etc/fifo", "", tar.TypeFifo},
	} {
		h := byName[c.name]
		if h == nil || h.Typeflag != c.typ || h.Linkname != c.link {
			t.Errorf("%s = %+v; want type %c link %q", c.name, h, c.typ, c.link)
		}
	}
	for name, content := range data {
		if strings.Contains(content, "host secret") {
			t.Errorf("%s holds the content of a file outside the rootfs", name)
		}
	}
	if h := byName["etc/os-release"]; h == nil || h.Uid != 1000 || h.Gid != 1001 || data["etc/os-release"] != "ID=test\n" {
		t.Errorf("etc/os-release = %+v %q; want uid 1000 gid 1001 and its content", h, data["etc/os-release"])
	}
	if h := byName["usr/bin/tool"]; h == nil || h.Mode != 0o755 || !h.ModTime.Equal(epoch) {
		t.Errorf("usr/bin/tool = %+v; want mode 755, epoch mtime", h)
	}
}

func TestPlanDirChangedFile(t *testing.T) {
	root, _ := makeRootfs(t)
	entries, err := planDir(context.Background(), root, epoch)
	if err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"t", "tool, but longer"} {
		if err := os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeTar(io.Discard, entries); err == nil || !strings.Contains(err.Error(), "during the build") {
			t.Errorf("content %q: err = %v, want a changed-during-build error", content, err)
		}
	}
}

func TestPlanDirErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root, _ := makeRootfs(t)
	if _, err := planDir(ctx, root, epoch); err == nil {
		t.Error("cancelled context: no error")
	}
	if _, err := planDir(context.Background(), t.TempDir(), epoch); err == nil {
		t.Error("empty directory: no error")
	}
	if _, err := planDir(context.Background(), "/nonexistent/sandscan-test", epoch); err == nil {
		t.Error("missing directory: no error")
	}
}
