package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types this package reads, beyond ocispec's.
const (
	mediaDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaDockerConfig       = "application/vnd.docker.container.image.v1+json"
	mediaDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
	mediaDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaDockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	// containerd's name for the image an annotation names.
	annotationImageName = "io.containerd.image.name"
)

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaDockerManifestList
}

func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaDockerManifest
}

func isConfig(mt string) bool {
	return mt == ocispec.MediaTypeImageConfig || mt == mediaDockerConfig
}

func isLayer(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageLayerZstd,
		ocispec.MediaTypeImageLayerNonDistributable, ocispec.MediaTypeImageLayerNonDistributableGzip, //nolint:staticcheck // still found in archives
		ocispec.MediaTypeImageLayerNonDistributableZstd, //nolint:staticcheck
		mediaDockerLayer, mediaDockerLayerGzip, mediaDockerLayerForeign:
		return true
	}
	return false
}

type ociReader struct {
	fsys fs.FS
	cfg  config
	size int64 // blob bytes accepted so far, against MaxSize
}

func inspectOCI(fsys fs.FS, cfg config) (*Info, error) {
	var layout ocispec.ImageLayout
	b, err := readFile(fsys, ocispec.ImageLayoutFile, cfg.limits.MaxJSON)
	if err != nil {
		return nil, err
	}
	if err := decodeJSON(ocispec.ImageLayoutFile, b, &layout); err != nil {
		return nil, err
	}
	if layout.Version != ocispec.ImageLayoutVersion {
		return nil, errorf(ErrUnsupported, "OCI layout version %q", layout.Version)
	}
	if b, err = readFile(fsys, ocispec.ImageIndexFile, cfg.limits.MaxJSON); err != nil {
		return nil, err
	}
	o := &ociReader{fsys: fsys, cfg: cfg}
	idx, err := o.decodeIndex(ocispec.ImageIndexFile, b)
	if err != nil {
		return nil, err
	}
	if len(idx.Manifests) == 0 {
		return nil, errorf(ErrMalformed, "index.json lists no image")
	}

	info := &Info{Format: FormatOCI}
	pick := -1
	for i, m := range idx.Manifests {
		ref := m.Annotations[annotationImageName]
		if ref == "" {
			ref = m.Annotations[ocispec.AnnotationRefName]
		}
		if ref != "" {
			info.Refs = append(info.Refs, ref)
		}
		if pick < 0 && (cfg.tag == "" || ref != "" && matchTag(ref, cfg.tag)) {
			pick, info.Ref = i, ref
		}
	}
	if pick < 0 {
		return nil, errorf(ErrNotFound, "no image tagged %q (have %q)", cfg.tag, info.Refs)
	}
	// containerd's import reads every index and manifest it can reach for
	// the platform: check them all, so that it cannot fail on a missing or
	// altered one after this said yes.
	for _, m := range idx.Manifests {
		if err := o.walk(m, 0); err != nil {
			return nil, err
		}
	}
	target := idx.Manifests[pick]
	info.ManifestDigest = target.Digest.String()
	if err := o.image(target, 0, info); err != nil {
		return nil, err
	}
	return info, nil
}

func (o *ociReader) decodeIndex(name string, b []byte) (*ocispec.Index, error) {
	var idx ocispec.Index
	if err := decodeJSON(name, b, &idx); err != nil {
		return nil, err
	}
	if idx.SchemaVersion != 2 {
		return nil, errorf(ErrUnsupported, "%s: schema version %d", name, idx.SchemaVersion)
	}
	if idx.MediaType != "" && !isIndex(idx.MediaType) {
		return nil, errorf(ErrMalformed, "%s: media type %q is not an index", name, idx.MediaType)
	}
	if len(idx.Manifests) > o.cfg.limits.MaxManifests {
		return nil, errorf(ErrTooLarge, "%s lists %d manifests, more than %d", name, len(idx.Manifests), o.cfg.limits.MaxManifests)
	}
	return &idx, nil
}

// wanted says whether containerd, importing for the platform, would
// follow a descriptor: those without a platform and those for it.
func (o *ociReader) wanted(d ocispec.Descriptor) bool {
	p := d.Platform
	return p == nil || o.cfg.matches(p.OS, p.Architecture, p.Variant)
}

// walk checks the indexes and manifests below d that containerd reads on
// import. Other media types (attestations, signatures) are left alone, as
// containerd leaves them.
func (o *ociReader) walk(d ocispec.Descriptor, depth int) error {
	if !o.wanted(d) {
		return nil
	}
	switch {
	case isIndex(d.MediaType):
		idx, err := o.index(d, depth)
		if err != nil {
			return err
		}
		for _, m := range idx.Manifests {
			if err := o.walk(m, depth+1); err != nil {
				return err
			}
		}
	case isManifest(d.MediaType):
		if _, err := o.manifest(d); err != nil {
			return err
		}
	}
	return nil
}

// index reads a nested index, refusing nesting past the depth limit.
func (o *ociReader) index(d ocispec.Descriptor, depth int) (*ocispec.Index, error) {
	if depth >= o.cfg.limits.MaxDepth {
		return nil, errorf(ErrTooLarge, "indexes nest deeper than %d", o.cfg.limits.MaxDepth)
	}
	b, err := readBlob(o.fsys, d, o.cfg.limits.MaxJSON)
	if err != nil {
		return nil, err
	}
	return o.decodeIndex("index "+d.Digest.String(), b)
}

func (o *ociReader) manifest(d ocispec.Descriptor) (*ocispec.Manifest, error) {
	b, err := readBlob(o.fsys, d, o.cfg.limits.MaxJSON)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	name := "manifest " + d.Digest.String()
	if err := decodeJSON(name, b, &m); err != nil {
		return nil, err
	}
	if m.SchemaVersion != 2 {
		return nil, errorf(ErrUnsupported, "%s: schema version %d", name, m.SchemaVersion)
	}
	if m.MediaType != "" && m.MediaType != d.MediaType {
		return nil, errorf(ErrMalformed, "%s: media type %q, its descriptor says %q", name, m.MediaType, d.MediaType)
	}
	return &m, nil
}

// image resolves d to the platform's image and fills info from it.
func (o *ociReader) image(d ocispec.Descriptor, depth int, info *Info) error {
	switch {
	case isIndex(d.MediaType):
		idx, err := o.index(d, depth)
		if err != nil {
			return err
		}
		var have []string
		for _, m := range idx.Manifests {
			if p := m.Platform; p != nil {
				if o.cfg.matches(p.OS, p.Architecture, p.Variant) {
					return o.image(m, depth+1, info)
				}
				have = append(have, platformOf(p.OS, p.Architecture, p.Variant))
			}
		}
		// Like containerd, fall back to what does not say its platform:
		// manifests judged by their config, and indexes below.
		var inner error
		for _, m := range idx.Manifests {
			if m.Platform == nil && (isManifest(m.MediaType) || isIndex(m.MediaType)) {
				err := o.image(m, depth+1, info)
				if err == nil || !errors.Is(err, ErrPlatform) {
					return err
				}
				inner = err
			}
		}
		if len(have) == 0 && inner != nil {
			return inner
		}
		return errorf(ErrPlatform, "index %s has no %s image (has %s)", d.Digest, o.cfg.platformString(), strings.Join(have, ", "))
	case isManifest(d.MediaType):
		return o.fill(d, info)
	}
	return errorf(ErrUnsupported, "image descriptor media type %q", d.MediaType)
}

// fill reads the platform's manifest, its config and its layers.
func (o *ociReader) fill(d ocispec.Descriptor, info *Info) error {
	m, err := o.manifest(d)
	if err != nil {
		return err
	}
	if !isConfig(m.Config.MediaType) {
		return errorf(ErrUnsupported, "config media type %q: not a container image", m.Config.MediaType)
	}
	if len(m.Layers) > o.cfg.limits.MaxLayers {
		return errorf(ErrTooLarge, "%d layers, more than %d", len(m.Layers), o.cfg.limits.MaxLayers)
	}
	cb, err := readBlob(o.fsys, m.Config, o.cfg.limits.MaxJSON)
	if err != nil {
		return err
	}
	img, err := parseConfig(cb, o.cfg)
	if err != nil {
		return err
	}
	if len(img.RootFS.DiffIDs) != len(m.Layers) {
		return errorf(ErrMalformed, "manifest has %d layers, config %d diff ids", len(m.Layers), len(img.RootFS.DiffIDs))
	}
	size := d.Size + m.Config.Size
	for i, l := range m.Layers {
		if !isLayer(l.MediaType) {
			return errorf(ErrUnsupported, "layer %d media type %q", i, l.MediaType)
		}
		if size += l.Size; size > o.cfg.limits.MaxSize {
			return errorf(ErrTooLarge, "image of more than %d bytes", o.cfg.limits.MaxSize)
		}
		if err := verifyBlob(o.fsys, l, o.cfg.verifyLayers); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	info.PlatformManifestDigest = d.Digest.String()
	info.ConfigDigest = m.Config.Digest.String()
	info.Layers = len(m.Layers)
	info.Size = size
	setConfig(info, img)
	return nil
}
