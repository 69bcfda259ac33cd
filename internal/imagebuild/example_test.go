package imagebuild_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// An image from a root filesystem directory (a debootstrap tree, say) plus
// one script, written as an OCI archive that containerd can import.
func Example() {
	rootfs, _ := os.MkdirTemp("", "rootfs-")
	defer os.RemoveAll(rootfs)
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	os.WriteFile(filepath.Join(rootfs, "etc", "os-release"), []byte("ID=example\n"), 0o644)

	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{
		Name:  "example",
		Dirs:  []string{rootfs},
		Files: []imagebuild.File{{Path: "/usr/local/bin/job.sh", Mode: 0o755, Content: []byte("#!/bin/sh\necho hello\n")}},
		Config: imagebuild.Config{
			Entrypoint: []string{"/usr/local/bin/job.sh"},
			Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out := filepath.Join(os.TempDir(), "example-image.tar")
	defer os.Remove(out)
	if err := imagebuild.WriteOCIArchive(out, img, "sandscan.test/example:latest"); err != nil {
		fmt.Println(err)
		return
	}
	layers, _ := img.Layers()
	fmt.Println("layers:", len(layers))
	// Output: layers: 2
}
