package archive

import (
	"archive/tar"
	"errors"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// FuzzInspect: whatever the bytes, Inspect returns an Info or an error
// that wraps ErrInvalid (the input is all in memory, so no other error can
// be right), and never panics or hangs.
//
// Run it with -fuzzminimizetime=2s: the seeds are archives of kilobytes,
// and the default minute spent minimizing each new input looks like a
// stalled fuzzer (74k execs, no failure, in 90 s that way).
func FuzzInspect(f *testing.F) {
	img := testImage(f, "amd64", 1, 64, true)
	f.Add(tarDir(f, ociLayout(f, layoutEntry{img: img, ref: "app:v1"}), nil))
	dimg := testImage(f, "amd64", 1, 64, false)
	f.Add(dockerArchive(f, "app:v1", dimg))
	f.Add(legacySave(f, []string{"app:v1"}, dimg))
	f.Add(makeTar(f, tarEnt{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		tarEnt{name: "index.json", body: []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` +
			"0000000000000000000000000000000000000000000000000000000000000000" + `","size":2}]}`)}))
	f.Add(makeTar(f, tarEnt{name: "manifest.json", body: []byte(`[{"Config":"c.json","Layers":["l/../x"]}]`)},
		tarEnt{name: "l", typ: tar.TypeSymlink, link: "/"}))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := inspectBytes(b, WithLimits(Limits{MaxEntries: 200, MaxSize: 1 << 20}))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error outside the categories: %v", err)
			}
			return
		}
		if _, err := digest.Parse(info.ManifestDigest); err != nil {
			t.Fatalf("manifest digest %q: %v", info.ManifestDigest, err)
		}
		if info.Format != FormatOCI && info.Format != FormatDocker {
			t.Fatalf("format %q", info.Format)
		}
	})
}
