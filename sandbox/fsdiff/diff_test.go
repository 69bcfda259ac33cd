package fsdiff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestDiff(t *testing.T) {
	elf := "\x7fELF\x02\x01\x01" + strings.Repeat("\x00", 100)
	tests := []struct {
		name    string
		lowers  [][]node // top-most first
		upper   []node
		scratch map[string][]node
		limits  Limits
		want    []string
		trunc   bool
		check   func(t *testing.T, r Result)
	}{{
		name:   "created file",
		lowers: [][]node{{dirn("etc", 0o755)}},
		upper:  []node{file("etc/cron.d/job", "* * * * * root sh\n", 0o644)},
		want:   []string{"created dir /etc/cron.d 755", "created file /etc/cron.d/job 644"},
		check: func(t *testing.T, r Result) {
			c := find(r.Changes, "/etc/cron.d/job")
			if c.SHA256 != sum("* * * * * root sh\n") || c.Size != 18 {
				t.Errorf("sha/size = %s/%d", c.SHA256, c.Size)
			}
		},
	}, {
		name:   "modified file, parent copied up only",
		lowers: [][]node{{file("etc/passwd", "root:x:0:0\n", 0o644)}},
		upper:  []node{file("etc/passwd", "root:x:0:0\nevil:x:0:0\n", 0o644)},
		want:   []string{"modified file /etc/passwd 644"},
	}, {
		name:   "directory metadata changed",
		lowers: [][]node{{dirn("srv", 0o755)}},
		upper:  []node{dirn("srv", 0o777)},
		want:   []string{"modified dir /srv 777"},
	}, {
		name:   "directory owner changed",
		lowers: [][]node{{dirn("srv", 0o755)}},
		upper:  []node{{path: "srv", kind: 'd', mode: 0o755, uid: 1000}},
		want:   []string{"modified dir /srv 755"},
		check: func(t *testing.T, r Result) {
			if c := r.Changes[0]; c.UID != 1000 || c.GID != 1000 {
				t.Errorf("uid/gid = %d/%d", c.UID, c.GID)
			}
		},
	}, {
		name:   "deleted file reports the lower's type and mode",
		lowers: [][]node{{file("bin/tool", "x", 0o711), dirn("bin", 0o755)}},
		upper:  []node{whiteout("bin/tool")},
		want:   []string{"deleted file /bin/tool 711"},
		check: func(t *testing.T, r Result) {
			if c := r.Changes[0]; c.Size != 1 || c.SHA256 != "" {
				t.Errorf("deleted size/sha = %d/%q", c.Size, c.SHA256)
			}
		},
	}, {
		name:   "deleted directory reported once",
		lowers: [][]node{{file("var/log/a", "a", 0), file("var/log/b/c", "c", 0)}},
		upper:  []node{whiteout("var/log")},
		want:   []string{"deleted dir /var/log 755"},
	}, {
		name:   "deleted symlink keeps its target",
		lowers: [][]node{{link("lib64", "usr/lib64")}},
		upper:  []node{whiteout("lib64")},
		want:   []string{"deleted symlink /lib64 777"},
		check: func(t *testing.T, r Result) {
			if c := r.Changes[0]; c.Link != "usr/lib64" {
				t.Errorf("link = %q", c.Link)
			}
		},
	}, {
		name:  "whiteout over nothing is no change",
		upper: []node{whiteout("ghost")},
		want:  []string{},
	}, {
		name:   "opaque directory deletes what it does not hold",
		lowers: [][]node{{file("d/a", "a", 0o644), file("d/b", "b", 0o644), file("d/sub/c", "c", 0o644), file("d/keep", "k", 0o644)}},
		upper:  []node{{path: "d", kind: 'o'}, file("d/new", "n", 0o644), dirn("d/sub", 0o755), file("d/keep", "k2", 0o644)},
		want: []string{
			"deleted file /d/a 644", "deleted file /d/b 644", "modified file /d/keep 644",
			"created file /d/new 644", "deleted file /d/sub/c 644",
		},
	}, {
		name:   "opaque directory over nothing",
		upper:  []node{{path: "fresh", kind: 'o'}, file("fresh/f", "f", 0o600)},
		want:   []string{"created dir /fresh 755", "created file /fresh/f 600"},
		lowers: [][]node{{dirn("etc", 0o755)}},
	}, {
		name: "whiteout in a lower hides the lowers below",
		lowers: [][]node{
			{whiteout("x"), dirn("d", 0o755), file("d/top", "t", 0o644)},
			{file("x", "old", 0o644), file("d/bottom", "b", 0o644)},
		},
		upper: []node{file("x", "new", 0o644), whiteout("d/bottom"), whiteout("d/top")},
		want:  []string{"deleted file /d/bottom 644", "deleted file /d/top 644", "created file /x 644"},
	}, {
		name: "opaque lower dir hides the lowers below it",
		lowers: [][]node{
			{{path: "d", kind: 'o'}, file("d/top", "t", 0o644)},
			{file("d/bottom", "b", 0o644)},
		},
		upper: []node{whiteout("d/bottom"), {path: "d", kind: 'o'}, file("d/new", "n", 0o644)},
		want:  []string{"created file /d/new 644", "deleted file /d/top 644"},
	}, {
		name:   "non-directory in an upper lower hides directories below",
		lowers: [][]node{{file("p", "file", 0o644)}, {file("p/inner", "i", 0o644)}},
		upper:  []node{dirn("p", 0o755), file("p/inner", "i2", 0o644)},
		want:   []string{"modified dir /p 755", "created file /p/inner 644"},
	}, {
		name:   "xattr whiteout in a directory marked x",
		lowers: [][]node{{file("d/f", "f", 0o644), file("d/empty", "", 0o644)}},
		upper:  []node{{path: "d", kind: 'x'}, {path: "d/f", kind: 'W'}},
		want:   []string{"deleted file /d/f 644"},
	}, {
		name:   "xattr whiteout ignored without the x marker",
		lowers: [][]node{{file("d/f", "f", 0o644)}},
		upper:  []node{dirn("d", 0o755), {path: "d/f", kind: 'W'}},
		want:   []string{"modified file /d/f 600"},
	}, {
		name:  "symlink is reported, never followed",
		upper: []node{link("usr/bin/evil", "/etc/shadow"), link("loop", "loop")},
		want:  []string{"created symlink /loop 777", "created dir /usr 755", "created dir /usr/bin 755", "created symlink /usr/bin/evil 777"},
		check: func(t *testing.T, r Result) {
			c := find(r.Changes, "/usr/bin/evil")
			if c.Link != "/etc/shadow" || c.Size != int64(len("/etc/shadow")) || c.SHA256 != "" || c.Artifact != "" {
				t.Errorf("symlink change = %+v", c)
			}
		},
	}, {
		name:   "setuid setgid and sticky bits",
		lowers: [][]node{{file("usr/bin/su", "su", 0o755)}},
		upper:  []node{file("usr/bin/su", "su", 0o4755), file("usr/bin/sg", "sg", 0o2711), dirn("shared", 0o1777)},
		want:   []string{"created dir /shared 1777", "created file /usr/bin/sg 2711", "modified file /usr/bin/su 4755"},
	}, {
		name:  "fifo is reported and never opened",
		upper: []node{{path: "run/pipe", kind: 'p', mode: 0o644}},
		want:  []string{"created dir /run 755", "created other /run/pipe 644"},
		check: func(t *testing.T, r Result) {
			if c := find(r.Changes, "/run/pipe"); c.SHA256 != "" || c.Size != 0 || len(r.Artifacts) != 0 {
				t.Errorf("fifo change = %+v, artifacts %d", c, len(r.Artifacts))
			}
		},
	}, {
		name:   "depth limit truncates",
		upper:  []node{file("a/b/c/d/e/f", "deep", 0o644), file("top", "t", 0o644)},
		limits: Limits{MaxDepth: 3},
		want:   []string{"created dir /a 755", "created dir /a/b 755", "created dir /a/b/c 755", "created dir /a/b/c/d 755", "created file /top 644"},
		trunc:  true,
	}, {
		name:   "entry limit truncates",
		upper:  []node{file("a", "a", 0o644), file("b", "b", 0o644), file("c", "c", 0o644), file("d", "d", 0o644)},
		limits: Limits{MaxEntries: 2},
		trunc:  true,
		check: func(t *testing.T, r Result) {
			// Which two is up to the directory's order; how many is not.
			if len(r.Changes) != 2 {
				t.Errorf("changes = %q", summary(r.Changes))
			}
		},
	}, {
		name:   "path length limit truncates",
		upper:  []node{file("short", "s", 0o644), file(strings.Repeat("n", 40), "long", 0o644)},
		limits: Limits{MaxPathLen: 20},
		want:   []string{"created file /short 644"},
		trunc:  true,
	}, {
		name:   "big file: no hash past the hash cap, artifact cut",
		upper:  []node{file("big", strings.Repeat("A", 5000), 0o755), file("small", "s", 0o644)},
		limits: Limits{HashMax: 4096, ArtifactMax: 1000},
		want:   []string{"created file /big 755", "created file /small 644"},
		check: func(t *testing.T, r Result) {
			big := find(r.Changes, "/big")
			if big.SHA256 != "" || big.Size != 5000 {
				t.Errorf("big = %+v", big)
			}
			a := r.Artifacts[0]
			if a.Path != "/big" || !a.Truncated || len(a.Data) != 1000 || a.Size != 5000 || a.SHA256 != sum(strings.Repeat("A", 1000)) {
				t.Errorf("artifact = %s truncated=%v len=%d size=%d", a.Path, a.Truncated, len(a.Data), a.Size)
			}
			if big.Artifact != a.Name {
				t.Errorf("change names artifact %q, have %q", big.Artifact, a.Name)
			}
		},
	}, {
		name: "artifacts: executables first, within the count cap, duplicates shared",
		upper: []node{
			file("a-notes.txt", "notes", 0o644), file("b-run.sh", "#!/bin/sh\nid\n", 0o644),
			file("c-miner", elf, 0o644), file("d-tool", "binary?", 0o755), file("e-copy.sh", "#!/bin/sh\nid\n", 0o644),
			file("empty", "", 0o755),
		},
		limits: Limits{ArtifactCount: 3},
		want: []string{
			"created file /a-notes.txt 644", "created file /b-run.sh 644", "created file /c-miner 644",
			"created file /d-tool 755", "created file /e-copy.sh 644", "created file /empty 755",
		},
		check: func(t *testing.T, r Result) {
			var paths []string
			for _, a := range r.Artifacts {
				paths = append(paths, a.Path)
			}
			if want := []string{"/c-miner", "/b-run.sh", "/d-tool"}; !slices.Equal(paths, want) {
				t.Errorf("artifacts = %v, want %v", paths, want)
			}
			if a, b := find(r.Changes, "/b-run.sh"), find(r.Changes, "/e-copy.sh"); a.Artifact == "" || a.Artifact != b.Artifact {
				t.Errorf("duplicate content artifacts %q %q", a.Artifact, b.Artifact)
			}
			if c := find(r.Changes, "/a-notes.txt"); c.Artifact != "" {
				t.Errorf("notes kept past the count cap: %q", c.Artifact)
			}
			if want := "files/" + sum(elf)[:16] + "-c-miner"; r.Artifacts[0].Name != want {
				t.Errorf("name = %q, want %q", r.Artifacts[0].Name, want)
			}
			if !slices.ContainsFunc(r.Errors, func(s string) bool { return strings.Contains(s, "1 changed files not kept") }) {
				t.Errorf("errors = %q", r.Errors)
			}
		},
	}, {
		name:    "scratch dirs report everything as created",
		lowers:  [][]node{{dirn("tmp", 0o1777)}},
		upper:   []node{file("var/tmp/x", "x", 0o644)},
		scratch: map[string][]node{"/tmp": {file(".hidden/payload", "\x7fELF", 0o755), {path: "fifo", kind: 'p'}}, "/dev/shm": {file("s", "s", 0o600)}},
		want: []string{
			"created file /dev/shm/s 600",
			"created dir /tmp/.hidden 755", "created file /tmp/.hidden/payload 755", "created other /tmp/fifo 644",
			"created dir /var 755", "created dir /var/tmp 755", "created file /var/tmp/x 644",
		},
		check: func(t *testing.T, r Result) {
			if r.Artifacts[0].Path != "/tmp/.hidden/payload" {
				t.Errorf("first artifact %q", r.Artifacts[0].Path)
			}
		},
	}, {
		name:    "a scratch entry replaces the upper entry of its path",
		upper:   []node{file("tmp/f", "upper", 0o644)},
		scratch: map[string][]node{"/tmp": {file("f", "scratch", 0o600)}},
		want:    []string{"created dir /tmp 755", "created file /tmp/f 600"},
		check: func(t *testing.T, r Result) {
			if c := find(r.Changes, "/tmp/f"); c.SHA256 != sum("scratch") {
				t.Errorf("sha %s", c.SHA256)
			}
		},
	}, {
		name:  "hard links hash once and share the artifact",
		upper: []node{file("a", "same", 0o755)},
		check: func(t *testing.T, r Result) {
			if len(r.Changes) != 2 || r.Changes[0].SHA256 != r.Changes[1].SHA256 || r.Changes[0].Artifact != r.Changes[1].Artifact || len(r.Artifacts) != 1 {
				t.Errorf("changes %+v artifacts %d", r.Changes, len(r.Artifacts))
			}
		},
		want: []string{"created file /a 755", "created file /b 755"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			var lowers []string
			for i, l := range tt.lowers {
				p := filepath.Join(root, "lower", string(rune('0'+i)))
				build(t, p, dirn(".", 0o755))
				build(t, p, l...)
				lowers = append(lowers, p)
			}
			upper := filepath.Join(root, "upper")
			build(t, upper, dirn(".", 0o755))
			build(t, upper, tt.upper...)
			if tt.name == "hard links hash once and share the artifact" {
				mustLink(t, filepath.Join(upper, "a"), filepath.Join(upper, "b"))
			}
			opts := []Option{WithLimits(tt.limits)}
			for prefix, nodes := range tt.scratch {
				p := filepath.Join(root, "scratch"+strings.ReplaceAll(prefix, "/", "_"))
				build(t, p, dirn(".", 0o755))
				build(t, p, nodes...)
				opts = append(opts, Scratch(prefix, p))
			}
			before := snapshot(t, root)
			r, err := Diff(context.Background(), upper, lowers, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(r.Changes); tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("changes:\n got %q\nwant %q", got, tt.want)
			}
			if r.Truncated != tt.trunc {
				t.Errorf("truncated = %v, want %v (errors %q)", r.Truncated, tt.trunc, r.Errors)
			}
			if !tt.trunc && len(r.Errors) > 0 && tt.check == nil {
				t.Errorf("errors: %q", r.Errors)
			}
			if after := snapshot(t, root); after != before {
				t.Errorf("the diff changed the trees:\n%s\n---\n%s", before, after)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestDiffArguments(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Diff(ctx, filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("missing upper: no error")
	}
	if _, err := Diff(ctx, dir, []string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing lower: no error")
	}
	for _, prefix := range []string{"tmp", "/", "/tmp/", "/a/../tmp"} {
		if _, err := Diff(ctx, dir, nil, Scratch(prefix, dir)); !errors.Is(err, ErrInvalid) {
			t.Errorf("prefix %q: err = %v, want ErrInvalid", prefix, err)
		}
	}
	if _, err := Diff(ctx, dir, nil, Scratch("/tmp", dir), Scratch("/tmp", dir)); !errors.Is(err, ErrInvalid) {
		t.Errorf("duplicate prefix: err = %v", err)
	}
	r, err := Diff(ctx, dir, nil, Scratch("/tmp", filepath.Join(dir, "missing")))
	if err != nil || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "scratch /tmp") {
		t.Errorf("missing scratch: err %v, errors %q", err, r.Errors)
	}
}

func TestDiffCanceled(t *testing.T) {
	upper := t.TempDir()
	build(t, upper, file("a", "a", 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Diff(ctx, upper, nil)
	if !errors.Is(err, context.Canceled) || !r.Truncated {
		t.Errorf("err = %v truncated = %v", err, r.Truncated)
	}
}

func TestArtifactName(t *testing.T) {
	h := sum("x")
	for _, tt := range []struct{ base, want string }{
		{"miner", "files/" + h[:16] + "-miner"},
		{"..", "files/" + h[:16] + "-.."},
		{"a/b\n\x00é", "files/" + h[:16] + "-a_b____"},
		{"", "files/" + h[:16] + "-file"},
		{strings.Repeat("z", 100), "files/" + h[:16] + "-" + strings.Repeat("z", 64)},
	} {
		if got := ArtifactName(h, tt.base); got != tt.want {
			t.Errorf("ArtifactName(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

// FuzzArtifactName: whatever name the workload gives a file, its artifact
// name is one path component of safe bytes below files/.
func FuzzArtifactName(f *testing.F) {
	for _, s := range []string{"miner", "../../etc/passwd", "", "\x00", "a b\tc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, base string) {
		n := ArtifactName(sum(base), base)
		rest, ok := strings.CutPrefix(n, "files/")
		if !ok || strings.ContainsAny(rest, "/\x00 \n") || len(rest) > 16+1+64 || rest[17:] == "" {
			t.Fatalf("unsafe artifact name %q", n)
		}
		for _, c := range []byte(rest) {
			if c >= 0x80 || c < 0x21 {
				t.Fatalf("unsafe byte %q in %q", c, n)
			}
		}
	})
}

func mustLink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := osLink(oldname, newname); err != nil {
		t.Fatal(err)
	}
}

var _ = trace.FileCreated
