package imagebuild

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDirToOCIArchive measures a root-filesystem directory (1000
// files of 16 KiB in 20 directories, half random, half text) turned into
// an OCI archive: the evaluation harness's path for debootstrap trees.
func BenchmarkDirToOCIArchive(b *testing.B) {
	root := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	for i := range 1000 {
		dir := filepath.Join(root, "usr", "lib", fmt.Sprintf("d%02d", i%20))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		data := make([]byte, 16<<10)
		for j := range data {
			if j < len(data)/2 {
				data[j] = byte(rng.Uint32())
			} else {
				data[j] = "the quick brown fox\n"[j%20]
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	out := filepath.Join(b.TempDir(), "img.tar")
	spec := Spec{Name: "bench", Dirs: []string{root}, Config: Config{Cmd: []string{"/bin/true"}}}
	b.SetBytes(total)
	for b.Loop() {
		img, err := Build(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteOCIArchive(out, img, "sandscan.test/bench:latest"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBusyboxImage measures one behaviour image: the busybox base
// plus a few megabytes of program.
func BenchmarkBusyboxImage(b *testing.B) {
	out := filepath.Join(b.TempDir(), "img.tar")
	files := append(BusyboxBase("/bin/busybox"), File{Path: "/usr/local/bin/prog", Source: "/bin/busybox", Mode: 0o755})
	for b.Loop() {
		img, err := Build(context.Background(), Spec{Name: "bench", Files: files})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteOCIArchive(out, img, "sandscan.test/bench:latest"); err != nil {
			b.Fatal(err)
		}
	}
}
