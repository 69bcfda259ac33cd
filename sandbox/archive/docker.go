package archive

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerImage is one entry of a docker archive's manifest.json, read the
// way containerd's importer reads it.
type dockerImage struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// dockerManifest is the manifest containerd writes for a docker archive's
// image; its JSON encoding, field for field, gives the digest containerd
// reports.
type dockerManifest struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	Config        ocispec.Descriptor   `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
}

func inspectDocker(fsys fs.FS, cfg config) (*Info, error) {
	b, err := readFile(fsys, "manifest.json", cfg.limits.MaxJSON)
	if err != nil {
		return nil, err
	}
	var imgs []dockerImage
	if err := decodeJSON("manifest.json", b, &imgs); err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, errorf(ErrMalformed, "manifest.json lists no image")
	}
	if len(imgs) > cfg.limits.MaxManifests {
		return nil, errorf(ErrTooLarge, "manifest.json lists %d images, more than %d", len(imgs), cfg.limits.MaxManifests)
	}
	info := &Info{Format: FormatDocker}
	pick := -1
	for i, im := range imgs {
		info.Refs = append(info.Refs, im.RepoTags...)
		for _, ref := range im.RepoTags {
			if pick < 0 && cfg.tag != "" && matchTag(ref, cfg.tag) {
				pick, info.Ref = i, ref
			}
		}
	}
	if cfg.tag == "" {
		pick = 0
		if len(imgs[0].RepoTags) > 0 {
			info.Ref = imgs[0].RepoTags[0]
		}
	}
	if pick < 0 {
		return nil, errorf(ErrNotFound, "no image tagged %q (have %q)", cfg.tag, info.Refs)
	}
	// containerd resolves every image of the archive on import.
	for i, im := range imgs {
		if i == pick {
			continue
		}
		if _, err := dockerFile(fsys, im.Config); err != nil {
			return nil, fmt.Errorf("image %d config: %w", i, err)
		}
		for _, l := range im.Layers {
			if _, err := dockerFile(fsys, l); err != nil {
				return nil, fmt.Errorf("image %d layer: %w", i, err)
			}
		}
	}
	if err := dockerFill(fsys, imgs[pick], cfg, info); err != nil {
		return nil, err
	}
	return info, nil
}

func dockerFill(fsys fs.FS, im dockerImage, cfg config, info *Info) error {
	if len(im.Layers) > cfg.limits.MaxLayers {
		return errorf(ErrTooLarge, "%d layers, more than %d", len(im.Layers), cfg.limits.MaxLayers)
	}
	cname, err := dockerFile(fsys, im.Config)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	cb, err := readFile(fsys, cname, cfg.limits.MaxJSON)
	if err != nil {
		return err
	}
	m := dockerManifest{
		SchemaVersion: 2,
		MediaType:     mediaDockerManifest,
		Config: ocispec.Descriptor{
			MediaType: mediaDockerConfig,
			Digest:    digest.FromBytes(cb),
			Size:      int64(len(cb)),
		},
		Layers: make([]ocispec.Descriptor, len(im.Layers)),
	}
	if err := checkNamedDigest(im.Config, m.Config.Digest); err != nil {
		return err
	}
	img, err := parseConfig(cb, cfg)
	if err != nil {
		return err
	}
	if len(img.RootFS.DiffIDs) != len(im.Layers) {
		return errorf(ErrMalformed, "manifest.json has %d layers, config %d diff ids", len(im.Layers), len(img.RootFS.DiffIDs))
	}
	size := m.Config.Size
	for i, l := range im.Layers {
		d, err := dockerLayer(fsys, l, img.RootFS.DiffIDs[i])
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		if size += d.Size; size > cfg.limits.MaxSize {
			return errorf(ErrTooLarge, "image of more than %d bytes", cfg.limits.MaxSize)
		}
		m.Layers[i] = d
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return err
	}
	md := digest.FromBytes(mb)
	info.ManifestDigest = md.String()
	info.PlatformManifestDigest = md.String()
	info.ConfigDigest = m.Config.Digest.String()
	info.Layers = len(im.Layers)
	info.Size = size + int64(len(mb))
	setConfig(info, img)
	return nil
}

// dockerFile resolves a path of manifest.json to a regular file. Docker
// (before 25) saved a layer shared by two images once and pointed to it
// with a relative symlink: one such hop, to a regular file inside the
// archive, is followed as containerd follows it; any other link is refused.
func dockerFile(fsys fs.FS, name string) (string, error) {
	if name == "" || !fs.ValidPath(name) || name == "." {
		// containerd looks the name up as written: "./x" finds nothing.
		return "", errorf(ErrMalformed, "manifest.json names %q", name)
	}
	fi, err := fs.Lstat(fsys, name)
	if err != nil {
		return "", notFound(name, err)
	}
	if fi.Mode().Type() == fs.ModeSymlink {
		target, err := fs.ReadLink(fsys, name)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			return "", errorf(ErrUnsafe, "symlink %q points to the absolute path %q", name, target)
		}
		resolved := path.Join(path.Dir(name), target)
		if resolved == ".." || strings.HasPrefix(resolved, "../") {
			return "", errorf(ErrUnsafe, "symlink %q points out of the archive", name)
		}
		if _, err := lstatRegular(fsys, resolved); err != nil {
			return "", fmt.Errorf("symlink %q: %w", name, err)
		}
		return resolved, nil
	}
	if _, err := lstatRegular(fsys, name); err != nil {
		return "", err
	}
	return name, nil
}

// Names that carry their content's digest: "<hex>.json" (docker's
// configs), "sha256:<hex>" (go-containerregistry), "blobs/sha256/<hex>"
// (Docker 25 and later).
var namedDigest = regexp.MustCompile(`^(?:blobs/sha256/|sha256:)?([0-9a-f]{64})(?:\.json)?$`)

func checkNamedDigest(name string, got digest.Digest) error {
	m := namedDigest.FindStringSubmatch(name)
	if m == nil || got.Algorithm() != digest.SHA256 {
		return nil
	}
	if m[1] != got.Encoded() {
		return errorf(ErrDigest, "%q holds content of digest %s", name, got)
	}
	return nil
}

// dockerLayer returns the descriptor containerd writes for a layer: the
// digest and size of the file as stored, the media type from its first
// bytes. An uncompressed layer must match its diff id.
func dockerLayer(fsys fs.FS, name string, diffID digest.Digest) (ocispec.Descriptor, error) {
	p, err := dockerFile(fsys, name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	f, err := fsys.Open(p)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%q: %w", p, err)
	}
	defer f.Close()
	var head bytes.Buffer
	h := digest.Canonical.Digester()
	n, err := io.Copy(h.Hash(), io.TeeReader(f, &limitedBuffer{b: &head, max: 10}))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%q: %w", p, err)
	}
	d := ocispec.Descriptor{MediaType: layerMediaType(head.Bytes()), Digest: h.Digest(), Size: n}
	if err := checkNamedDigest(name, d.Digest); err != nil {
		return ocispec.Descriptor{}, err
	}
	if d.MediaType == mediaDockerLayer && diffID != d.Digest {
		return ocispec.Descriptor{}, errorf(ErrDigest, "%q has digest %s, its diff id is %s", name, d.Digest, diffID)
	}
	return d, nil
}

// layerMediaType tells compression the way containerd's importer does:
// gzip or zstd magic is "compressed" (which it labels gzip), else a tar.
func layerMediaType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b, 0x08}),
		bytes.HasPrefix(head, zstdMagic),
		len(head) >= 8 && binary.LittleEndian.Uint32(head)&0xFFFFFFF0 == 0x184D2A50:
		return mediaDockerLayerGzip
	}
	return mediaDockerLayer
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if k := l.max - l.b.Len(); k > 0 {
		l.b.Write(p[:min(k, len(p))])
	}
	return len(p), nil
}
