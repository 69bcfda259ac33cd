package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/containerd/v2/plugins/content/local"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	sarchive "github.com/sandscan/sandscan/sandbox/archive"
)

// TestManifestDigestMatchesContainerd imports each archive with
// containerd's own importer (the code behind client.Import) into a fresh
// content store, and checks that Inspect's ManifestDigest is the target
// containerd records: the package does not import containerd, its test
// proves the contract against it.
func TestManifestDigestMatchesContainerd(t *testing.T) {
	docker := sarchive.ImageForTest(t, "amd64", 3, 300, false)
	oci := sarchive.ImageForTest(t, "amd64", 2, 300, true)
	arm := sarchive.ImageForTest(t, "arm64", 1, 300, true)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: oci, Descriptor: v1Desc("amd64")},
		mutate.IndexAddendum{Add: arm, Descriptor: v1Desc("arm64")})
	withDup, err := mutate.AppendLayers(docker, must(docker.Layers())[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"docker archive, gzip layers", sarchive.DockerArchiveForTest(t, "registry.test/app:v1", docker)},
		{"docker save, tar layers", sarchive.LegacySaveForTest(t, []string{"app:v1"}, docker)},
		{"docker save, shared layer", sarchive.LegacySaveForTest(t, []string{"app:v1"}, withDup)},
		{"oci archive", sarchive.OCIArchiveForTest(t, oci, nil, "app:v1")},
		{"oci archive, index", sarchive.OCIArchiveForTest(t, nil, idx, "multi")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := sarchive.Inspect(bytes.NewReader(tt.b), int64(len(tt.b)))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			store, err := local.NewStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			desc, err := archive.ImportIndex(ctx, store, bytes.NewReader(tt.b))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := content.ReadBlob(ctx, store, desc)
			if err != nil {
				t.Fatal(err)
			}
			var index ocispec.Index
			if err := json.Unmarshal(raw, &index); err != nil {
				t.Fatal(err)
			}
			// client.Import names an image per index entry, its target
			// that entry; Sandscan runs the first.
			if got := index.Manifests[0].Digest.String(); got != info.ManifestDigest {
				t.Errorf("containerd's target %s, Inspect says %s", got, info.ManifestDigest)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func v1Desc(arch string) v1.Descriptor {
	return v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}
}
