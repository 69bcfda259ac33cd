package archive

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Test archive builders for the external tests.

func ImageForTest(t testing.TB, arch string, layers int, size int64, oci bool) v1.Image {
	return testImage(t, arch, layers, size, oci)
}

func OCIArchiveForTest(t testing.TB, img v1.Image, idx v1.ImageIndex, ref string) []byte {
	return tarDir(t, ociLayout(t, layoutEntry{img: img, idx: idx, ref: ref}), nil)
}

func DockerArchiveForTest(t testing.TB, tag string, img v1.Image) []byte {
	return dockerArchive(t, tag, img)
}

func LegacySaveForTest(t testing.TB, tags []string, img v1.Image) []byte {
	return legacySave(t, tags, img)
}
