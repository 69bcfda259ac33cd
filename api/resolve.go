package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/sandscan/sandscan/queue"
)

// Resolver turns a registry reference into the digest it names now.
type Resolver interface {
	Resolve(ctx context.Context, ref string, creds *Credentials) (Resolved, error)
}

// Resolved is a reference pinned to its digest.
type Resolved struct {
	// Ref is Repository@Digest: what the worker pulls, so a tag that
	// moves after submission cannot swap the image under the job.
	Ref        string
	Digest     string
	Repository string // registry/name, docker.io for Docker Hub
	Tag        string // the tag resolved, if any
}

// RegistryResolver asks the registry with a HEAD of the manifest. Loopback
// and RFC 1918 registries are spoken to in plain HTTP, as are Insecure ones.
type RegistryResolver struct {
	// Insecure lists registries (host:port) reached over plain HTTP.
	Insecure []string
	// Transport is the HTTP transport (http.DefaultTransport when nil).
	Transport http.RoundTripper
	// Timeout bounds one resolution (30 s when 0).
	Timeout time.Duration
}

// Resolve implements Resolver. A reference that carries a digest needs no
// registry: the digest is the answer.
func (rr *RegistryResolver) Resolve(ctx context.Context, ref string, creds *Credentials) (Resolved, error) {
	parsed, err := parseRef(ref, rr.Insecure)
	if err != nil {
		return Resolved{}, err
	}
	repo := repositoryOf(parsed.Context())
	if d, ok := parsed.(name.Digest); ok {
		if err := queue.ValidateDigest(d.DigestStr()); err != nil {
			return Resolved{}, fmt.Errorf("%w: %w", errBadRequest, err)
		}
		return Resolved{Ref: repo + "@" + d.DigestStr(), Digest: d.DigestStr(), Repository: repo}, nil
	}
	timeout := rr.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	auth := authn.Anonymous
	if creds != nil && creds.Username != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: creds.Username, Password: creds.Password})
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}
	if rr.Transport != nil {
		opts = append(opts, remote.WithTransport(rr.Transport))
	}
	desc, err := remote.Head(parsed, opts...)
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode >= 400 && terr.StatusCode < 500 {
			return Resolved{}, fmt.Errorf("%w: %s: registry answered %d", errUnresolvable, ref, terr.StatusCode)
		}
		return Resolved{}, fmt.Errorf("%w: %s: %w", errUpstream, ref, err)
	}
	digest := desc.Digest.String()
	if err := queue.ValidateDigest(digest); err != nil {
		return Resolved{}, fmt.Errorf("%w: %s: registry gave %w", errUnresolvable, ref, err)
	}
	return Resolved{Ref: repo + "@" + digest, Digest: digest, Repository: repo, Tag: parsed.Identifier()}, nil
}

// parseRef reads a reference as Docker does: a bare name means Docker
// Hub's library, a missing tag means latest.
func parseRef(ref string, insecure []string) (name.Reference, error) {
	if ref == "" || len(ref) > queue.MaxImageLen {
		return nil, fmt.Errorf("%w: image reference of %d bytes", errBadRequest, len(ref))
	}
	opts := []name.Option{name.WeakValidation}
	parsed, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if slices.Contains(insecure, parsed.Context().RegistryStr()) {
		parsed, err = name.ParseReference(ref, append(opts, name.Insecure)...)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errBadRequest, err)
		}
	}
	return parsed, nil
}

// repositoryOf spells a repository the way containerd and reports do:
// docker.io, not go-containerregistry's index.docker.io.
func repositoryOf(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}
