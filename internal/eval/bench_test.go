package eval

import (
	"context"
	"testing"
)

// BenchmarkTestImage measures what each Debian test costs before import:
// its script layer built and written as a layout beside the linked base.
func BenchmarkTestImage(b *testing.B) {
	ctx := context.Background()
	im := NewImages(b.TempDir(), "/bin/busybox", nil)
	base, err := im.DebianBase(ctx, fakeRootfs(b))
	if err != nil {
		b.Fatal(err)
	}
	test := Test{ID: "A01", Kind: KindAtomic, Shell: "sh", Rootfs: RootfsDebian, Command: "id"}
	for b.Loop() {
		if _, err := im.TestImage(ctx, test, base, DefaultKeepAlive); err != nil {
			b.Fatal(err)
		}
	}
}
