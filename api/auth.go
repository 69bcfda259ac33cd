package api

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Tokens is a set of secrets a request may present. It keeps only their
// SHA-256 sums, so every comparison takes the same time whatever the
// lengths, and it never prints a secret.
type Tokens struct {
	sums [][sha256.Size]byte
}

// MinTokenLen refuses secrets short enough to guess.
const MinTokenLen = 16

// NewTokens builds a set from secrets; blanks are skipped, short ones refused.
func NewTokens(secrets ...string) (Tokens, error) {
	var t Tokens
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if len(s) < MinTokenLen {
			return Tokens{}, fmt.Errorf("a token of %d characters: at least %d are needed", len(s), MinTokenLen)
		}
		t.sums = append(t.sums, sha256.Sum256([]byte(s)))
	}
	return t, nil
}

// ParseTokens reads secrets separated by commas (SANDSCAN_TOKEN).
func ParseTokens(list string) (Tokens, error) { return NewTokens(strings.Split(list, ",")...) }

// ReadTokenFile reads one secret a line; blank lines and lines starting
// with # are skipped.
func ReadTokenFile(path string) (Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return Tokens{}, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	return readTokens(f)
}

func readTokens(r io.Reader) (Tokens, error) {
	var secrets []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		secrets = append(secrets, line)
	}
	if err := sc.Err(); err != nil {
		return Tokens{}, fmt.Errorf("token file: %w", err)
	}
	return NewTokens(secrets...)
}

// Merge returns the union of t and u.
func (t Tokens) Merge(u Tokens) Tokens {
	return Tokens{sums: append(append([][sha256.Size]byte(nil), t.sums...), u.sums...)}
}

// Len is how many secrets the set holds.
func (t Tokens) Len() int { return len(t.sums) }

// Match reports, in time independent of which secret matches, whether
// secret is in the set.
func (t Tokens) Match(secret string) bool {
	if secret == "" {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	ok := 0
	for i := range t.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], t.sums[i][:])
	}
	return ok == 1
}

// String keeps secrets out of %v.
func (t Tokens) String() string { return fmt.Sprintf("%d token(s)", len(t.sums)) }

// HookSecret is a webhook's secret from the header value a registry is
// configured to send: "Bearer X" and "X" name the same secret X, as the
// registry may send either.
func HookSecret(value string) (Tokens, error) {
	value = strings.TrimSpace(value)
	if scheme, rest, ok := strings.Cut(value, " "); ok && strings.EqualFold(scheme, "Bearer") {
		value = strings.TrimSpace(rest)
	}
	return NewTokens(value)
}

// bearer returns the token of an "Authorization: Bearer X" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// checkBearer accepts a request bearing one of the API tokens.
func (s *Server) checkBearer(r *http.Request) error {
	if s.tokens.Match(bearer(r)) {
		return nil
	}
	if r.Header.Get("Authorization") == "" {
		return fmt.Errorf("%w: no bearer token", errUnauthorized)
	}
	return fmt.Errorf("%w: bad token", errUnauthorized)
}

// checkHookHeader accepts a webhook whose Authorization header carries the
// hook's secret, bare or after "Bearer " (Distribution sends the header
// configured verbatim; Harbor's auth header is often typed either way).
// A hook without a secret of its own takes the API tokens.
func (s *Server) checkHookHeader(r *http.Request, secret Tokens) error {
	if secret.Len() == 0 {
		return s.checkBearer(r)
	}
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if secret.Match(h) || secret.Match(bearer(r)) {
		return nil
	}
	return errors.Join(errUnauthorized, errors.New("bad webhook authorization"))
}
