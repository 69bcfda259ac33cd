package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sandscan/sandscan/queue"
)

// Push is one image a registry says was pushed.
type Push struct {
	Registry   string // host[:port] the registry is reached at
	Repository string // the name within the registry: team/app
	Tag        string // may be empty
	Digest     string // the manifest's digest; empty when the hook gives none (Docker Hub)
	MediaType  string
}

// Repo is registry/repository.
func (p Push) Repo() string { return p.Registry + "/" + p.Repository }

// Ref names the push for a pull: by tag and digest when both are known
// (the digest decides what is pulled), else by whichever there is.
func (p Push) Ref() string {
	ref := p.Repo()
	if p.Tag != "" {
		ref += ":" + p.Tag
	}
	if p.Digest != "" {
		ref += "@" + p.Digest
	}
	return ref
}

// errMalformed wraps every refusal of a webhook body.
var errMalformed = fmt.Errorf("%w: malformed webhook", errBadRequest)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
}

// Limits on what a webhook body may hold.
const (
	maxHookEvents  = 1000
	maxRepoLen     = 255
	maxTagLen      = 128
	maxRegistryLen = 255
)

// validate checks p's fields have the shapes the distribution spec
// allows, so nothing odd reaches a reference, a log or a store key.
func (p Push) validate(needDigest bool) error {
	if err := validRegistry(p.Registry); err != nil {
		return err
	}
	if err := validRepository(p.Repository); err != nil {
		return err
	}
	if p.Tag != "" {
		if err := validTag(p.Tag); err != nil {
			return err
		}
	}
	if p.Digest != "" || needDigest {
		if err := queue.ValidateDigest(p.Digest); err != nil {
			return malformed("%v", err)
		}
	}
	if p.Digest == "" && p.Tag == "" {
		return malformed("a push of %.64q names neither tag nor digest", p.Repository)
	}
	return nil
}

func validRegistry(h string) error {
	if h == "" || len(h) > maxRegistryLen {
		return malformed("registry host of %d bytes", len(h))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return malformed("registry host %.64q", h)
		}
	}
	return nil
}

// validRepository accepts the distribution spec's names: lowercase
// components of [a-z0-9] joined by separators, split by slashes.
func validRepository(r string) error {
	if r == "" || len(r) > maxRepoLen {
		return malformed("repository of %d bytes", len(r))
	}
	for comp := range strings.SplitSeq(r, "/") {
		if comp == "" || !alnum(comp[0]) || !alnum(comp[len(comp)-1]) {
			return malformed("repository %.64q", r)
		}
		for i := 0; i < len(comp); i++ {
			if c := comp[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
				return malformed("repository %.64q", r)
			}
		}
	}
	return nil
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func validTag(t string) error {
	if len(t) > maxTagLen {
		return malformed("tag of %d bytes", len(t))
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || i > 0 && (c == '.' || c == '-')
		if !ok {
			return malformed("tag %.64q", t)
		}
	}
	return nil
}

// splitResourceURL reads host/name[:tag][@digest] as Harbor writes
// resource_url.
func splitResourceURL(u string) (registry, repo, tag, digest string, err error) {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, digest = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, tag = rest[:i], rest[i+1:]
	}
	registry, repo, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", "", "", errors.Join(errMalformed, fmt.Errorf("resource_url %.128q names no registry", u))
	}
	return registry, repo, tag, digest, nil
}
