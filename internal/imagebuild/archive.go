package imagebuild

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/sandscan/sandscan/internal/atomicfile"
)

// Annotations on the index.json entry that name the image. containerd's
// Import takes the name from AnnotationContainerdName first and falls back
// to AnnotationRefName; skopeo and other OCI tools read AnnotationRefName.
const (
	AnnotationContainerdName = "io.containerd.image.name"
	AnnotationRefName        = "org.opencontainers.image.ref.name"
)

// WriteOCIArchive writes img as an OCI image layout tarball (oci-layout,
// index.json, blobs/sha256/...) at path, naming it ref in the index. The
// file is written beside path and renamed into place, so a reader never
// sees half an archive.
func WriteOCIArchive(path string, img v1.Image, ref string) error {
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("oci archive: reference %q: %w", ref, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return writeOCI(w, img, ref) })
}

// WriteDockerArchive writes img as a docker-archive tarball (the `docker
// save` format: manifest.json, config and layer files) tagged ref.
func WriteDockerArchive(path string, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("docker archive: reference %q must be a tag: %w", ref, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return tarball.Write(tag, img, w) })
}

// blob is one file under blobs/sha256 of the layout.
type blob struct {
	digest v1.Hash
	size   int64
	data   []byte                        // small blobs: manifest, config
	open   func() (io.ReadCloser, error) // layers, streamed
}

func writeOCI(w io.Writer, img v1.Image, ref string) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	mdigest, err := img.Digest()
	if err != nil {
		return err
	}
	mtype, err := img.MediaType()
	if err != nil {
		return err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	cdigest, err := img.ConfigName()
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	blobs := map[v1.Hash]blob{
		mdigest: {digest: mdigest, size: int64(len(manifest)), data: manifest},
		cdigest: {digest: cdigest, size: int64(len(config)), data: config},
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		blobs[d] = blob{digest: d, size: size, open: l.Compressed}
	}

	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   mtype,
			Size:        int64(len(manifest)),
			Digest:      mdigest,
			Platform:    &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
			Annotations: map[string]string{AnnotationContainerdName: ref, AnnotationRefName: ref},
		}},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	// Entries in byte order; every header carries the same fixed time.
	epoch := time.Unix(0, 0)
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch})
	}
	file := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: epoch}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: wrote %d bytes, descriptor says %d", name, n, size)
		}
		return err
	}
	if err := dir("blobs/"); err != nil {
		return err
	}
	if err := dir("blobs/sha256/"); err != nil {
		return err
	}
	sorted := make([]blob, 0, len(blobs))
	for _, b := range blobs {
		sorted = append(sorted, b)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].digest.Hex < sorted[j].digest.Hex })
	for _, b := range sorted {
		name := "blobs/sha256/" + b.digest.Hex
		if b.data != nil {
			if err := file(name, b.size, bytes.NewReader(b.data)); err != nil {
				return err
			}
			continue
		}
		rc, err := b.open()
		if err != nil {
			return fmt.Errorf("layer %s: %w", b.digest, err)
		}
		err = file(name, b.size, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", b.digest, err)
		}
	}
	if err := file("index.json", int64(len(indexJSON)), bytes.NewReader(indexJSON)); err != nil {
		return err
	}
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := file("oci-layout", int64(len(layout)), bytes.NewReader(layout)); err != nil {
		return err
	}
	return tw.Close()
}
