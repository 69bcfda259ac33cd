package sandbox

import (
	"errors"
	"fmt"
	"strings"
)

// SourceKind says where an image comes from.
type SourceKind string

const (
	OCIArchive    SourceKind = "oci-archive"
	DockerArchive SourceKind = "docker-archive"
	OCIDir        SourceKind = "oci"
	Registry      SourceKind = "docker"
)

// Source names an image to detonate, as a user wrote it.
type Source struct {
	Kind SourceKind
	// Path is the archive or layout directory; Ref the registry reference
	// or, for an OCI layout, the tag to pick (may be empty).
	Path string
	Ref  string
}

// ErrBadReference is returned for an image name that cannot be parsed.
var ErrBadReference = errors.New("bad image reference")

// ParseSource reads the transport syntax skopeo and podman use:
// oci-archive:PATH, docker-archive:PATH, oci:DIR[:TAG], docker://REF, or a
// bare registry reference.
func ParseSource(s string) (Source, error) {
	if s == "" {
		return Source{}, fmt.Errorf("%w: empty", ErrBadReference)
	}
	switch {
	case strings.HasPrefix(s, "oci-archive:"):
		return pathSource(OCIArchive, strings.TrimPrefix(s, "oci-archive:"), s)
	case strings.HasPrefix(s, "docker-archive:"):
		return pathSource(DockerArchive, strings.TrimPrefix(s, "docker-archive:"), s)
	case strings.HasPrefix(s, "oci:"):
		rest := strings.TrimPrefix(s, "oci:")
		dir, tag := rest, ""
		// A tag follows the last colon unless that colon is part of the path.
		if i := strings.LastIndex(rest, ":"); i > 0 && !strings.Contains(rest[i+1:], "/") {
			dir, tag = rest[:i], rest[i+1:]
		}
		src, err := pathSource(OCIDir, dir, s)
		src.Ref = tag
		return src, err
	case strings.HasPrefix(s, "docker://"):
		return registrySource(strings.TrimPrefix(s, "docker://"), s)
	case strings.Contains(s, "://"):
		return Source{}, fmt.Errorf("%w: unknown transport in %q", ErrBadReference, s)
	}
	return registrySource(s, s)
}

func pathSource(kind SourceKind, path, orig string) (Source, error) {
	if path == "" {
		return Source{}, fmt.Errorf("%w: %q names no path", ErrBadReference, orig)
	}
	return Source{Kind: kind, Path: path}, nil
}

func registrySource(ref, orig string) (Source, error) {
	if ref == "" || strings.ContainsAny(ref, " \t\n") {
		return Source{}, fmt.Errorf("%w: %q", ErrBadReference, orig)
	}
	return Source{Kind: Registry, Ref: normalizeRef(ref)}, nil
}

// normalizeRef expands a familiar name (alpine, library/alpine:3) to the
// fully qualified form containerd resolves (docker.io/library/alpine:latest).
func normalizeRef(ref string) string {
	name, tagOrDigest := ref, ""
	if i := strings.Index(ref, "@"); i >= 0 {
		name, tagOrDigest = ref[:i], ref[i:]
	} else if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tagOrDigest = ref[:i], ref[i:]
	}
	if tagOrDigest == "" {
		tagOrDigest = ":latest"
	}
	first, _, hasSlash := strings.Cut(name, "/")
	isHost := hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost")
	switch {
	case !hasSlash:
		name = "docker.io/library/" + name
	case !isHost:
		name = "docker.io/" + name
	}
	return name + tagOrDigest
}

// String gives the source back in the syntax ParseSource reads.
func (s Source) String() string {
	switch s.Kind {
	case Registry:
		return s.Ref
	case OCIDir:
		if s.Ref != "" {
			return "oci:" + s.Path + ":" + s.Ref
		}
	}
	return string(s.Kind) + ":" + s.Path
}
