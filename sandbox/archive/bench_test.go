package archive

import (
	"testing"
)

// BenchmarkInspect50MB inspects archives of five 10 MB layers (random,
// so incompressible: about 50 MB each).
func BenchmarkInspect50MB(b *testing.B) {
	oci := testImage(b, "amd64", 5, 10<<20, true)
	ociTar := tarDir(b, ociLayout(b, layoutEntry{img: oci}), nil)
	docker := testImage(b, "amd64", 5, 10<<20, false)
	dockerTar := dockerArchive(b, "app:v1", docker)
	for _, bb := range []struct {
		name string
		data []byte
		opts []Option
	}{
		{"oci", ociTar, nil},
		{"oci-skip-layer-digests", ociTar, []Option{SkipLayerDigests()}},
		{"docker", dockerTar, nil},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.data)))
			for b.Loop() {
				if _, err := inspectBytes(bb.data, bb.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
