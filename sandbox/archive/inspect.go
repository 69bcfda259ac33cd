package archive

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Formats of an archive.
const (
	FormatOCI    = "oci"
	FormatDocker = "docker"
)

// Info is what an archive holds, as containerd will see it.
type Info struct {
	// Format is FormatOCI (an OCI layout, also what Docker 25 and later
	// save alongside manifest.json) or FormatDocker.
	Format string `json:"format"`
	// Refs are the image names of the archive, in its order: the OCI
	// org.opencontainers.image.ref.name (or io.containerd.image.name)
	// annotations of index.json, or the RepoTags of manifest.json.
	Refs []string `json:"refs,omitempty"`
	// Ref is the name of the image inspected, if it has one.
	Ref string `json:"ref,omitempty"`
	// ManifestDigest is the digest containerd reports as the image's
	// target after client.Import. For an OCI layout it is the digest of the
	// image's descriptor in index.json: a manifest, or an index for a
	// multi-platform image. For a docker archive containerd writes a
	// docker schema 2 manifest of its own (config and layers with the
	// digests of the files as stored) and reports that manifest's digest;
	// Inspect computes the same bytes.
	ManifestDigest string `json:"manifest_digest"`
	// PlatformManifestDigest is the image manifest for the platform:
	// ManifestDigest unless that is an index.
	PlatformManifestDigest string `json:"platform_manifest_digest"`
	ConfigDigest           string `json:"config_digest"`
	// Platform is os/arch[/variant] from the image config.
	Platform string `json:"platform"`
	Config   Config `json:"config"`
	Layers   int    `json:"layers"`
	// Size is the bytes of the platform's manifest, config and layers as
	// stored (compressed layers stay compressed).
	Size int64 `json:"size"`
}

// Config is what the image config asks for the run.
type Config struct {
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	Env          []string          `json:"env,omitempty"`
	User         string            `json:"user,omitempty"`
	WorkingDir   string            `json:"working_dir,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	OS           string            `json:"os"`
	Architecture string            `json:"architecture"`
	Variant      string            `json:"variant,omitempty"`
}

// Inspect reads an OCI archive or a docker archive of size bytes. It
// reads the tar's headers, the JSON documents and, to verify them, the
// layers; it keeps none of their content.
func Inspect(r io.ReaderAt, size int64, opts ...Option) (*Info, error) {
	cfg := newConfig(opts)
	if size < 0 {
		return nil, fmt.Errorf("archive: negative size %d", size)
	}
	if size > cfg.limits.MaxSize+(cfg.limits.MaxSize>>4)+1<<20 {
		// Room for tar headers and padding over MaxSize of content.
		return nil, errorf(ErrTooLarge, "archive of %d bytes", size)
	}
	t, err := indexTar(r, size, cfg.limits)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	info, err := inspectFS(t, cfg, true)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return info, nil
}

// InspectFile inspects the archive at path.
func InspectFile(path string, opts ...Option) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("archive: %s is not a regular file", path)
	}
	return Inspect(f, fi.Size(), opts...)
}

// InspectDir inspects an OCI layout directory (oci:DIR[:TAG]); tag, if
// not empty, picks the image of that ref name. Nothing is read outside dir,
// and a symlink anywhere in the layout is refused.
func InspectDir(dir, tag string, opts ...Option) (*Info, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer root.Close()
	cfg := newConfig(opts)
	if tag != "" {
		cfg.tag = tag
	}
	fsys := root.FS()
	if !exists(fsys, "oci-layout") {
		return nil, fmt.Errorf("archive: %w", errorf(ErrMalformed, "%s is not an OCI layout: no oci-layout file", dir))
	}
	info, err := inspectFS(fsys, cfg, false)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return info, nil
}

// inspectFS tells the format the way containerd's importer does: an
// oci-layout file makes an OCI layout, else manifest.json a docker archive.
func inspectFS(fsys fs.FS, cfg config, isTar bool) (*Info, error) {
	if exists(fsys, "oci-layout") {
		if t, ok := fsys.(*tarFS); ok && len(t.links) > 0 {
			return nil, errorf(ErrUnsafe, "entry %q is a symlink", t.links[0])
		}
		return inspectOCI(fsys, cfg)
	}
	if isTar && exists(fsys, "manifest.json") {
		return inspectDocker(fsys, cfg)
	}
	return nil, errorf(ErrMalformed, "neither an OCI layout (oci-layout) nor a docker archive (manifest.json)")
}

// matchTag says whether an image name answers to tag: the whole name, or
// what follows its last ":" ("latest" for "docker.io/library/a:latest").
func matchTag(ref, tag string) bool {
	if ref == tag {
		return true
	}
	i := strings.LastIndex(ref, ":")
	return i >= 0 && !strings.Contains(ref[i:], "/") && ref[i+1:] == tag
}

func (c *config) platformString() string {
	s := c.os + "/" + c.arch
	if c.variant != "" {
		s += "/" + c.variant
	}
	return s
}

func platformOf(os, arch, variant string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}

func (c *config) matches(os, arch, variant string) bool {
	return os == c.os && arch == c.arch && (c.variant == "" || variant == c.variant)
}
