package archive

import (
	_ "crypto/sha256" // digest algorithms go-digest checks for
	_ "crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// lstatRegular checks that name is a regular file reached through
// directories only: the archive's own structure holds no links.
func lstatRegular(fsys fs.FS, name string) (fs.FileInfo, error) {
	var parents []string
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		parents = append(parents, d)
	}
	for i := len(parents) - 1; i >= 0; i-- {
		fi, err := fs.Lstat(fsys, parents[i])
		if err != nil {
			return nil, notFound(name, err)
		}
		if !fi.IsDir() {
			return nil, errorf(ErrUnsafe, "%q: %q is not a directory", name, parents[i])
		}
	}
	fi, err := fs.Lstat(fsys, name)
	if err != nil {
		return nil, notFound(name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf(ErrUnsafe, "%q is not a regular file (%v)", name, fi.Mode().Type())
	}
	return fi, nil
}

func notFound(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(ErrMalformed, "%q is missing", name)
	}
	return fmt.Errorf("%q: %w", name, err)
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Lstat(fsys, name)
	return err == nil
}

// readFile reads a small regular file whole.
func readFile(fsys fs.FS, name string, max int64) ([]byte, error) {
	fi, err := lstatRegular(fsys, name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, errorf(ErrTooLarge, "%q holds %d bytes, more than %d", name, fi.Size(), max)
	}
	return readAll(fsys, name, fi.Size())
}

func readAll(fsys fs.FS, name string, size int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, size+1))
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, err)
	}
	if int64(len(b)) != size {
		return nil, errorf(ErrMalformed, "%q changed while read", name)
	}
	return b, nil
}

func decodeJSON(name string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return errorf(ErrMalformed, "%s: %v", name, err)
	}
	return nil
}

// blobPath checks a descriptor's digest and returns where its blob lives.
func blobPath(d ocispec.Descriptor) (string, error) {
	if err := d.Digest.Validate(); err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return "", errorf(ErrUnsupported, "digest %q", d.Digest)
		}
		return "", errorf(ErrMalformed, "digest %q: %v", d.Digest, err)
	}
	if d.Size < 0 {
		return "", errorf(ErrMalformed, "descriptor %s has size %d", d.Digest, d.Size)
	}
	return path.Join(ocispec.ImageBlobsDir, d.Digest.Algorithm().String(), d.Digest.Encoded()), nil
}

// statBlob checks that the blob of d is there with d's size.
func statBlob(fsys fs.FS, d ocispec.Descriptor) (string, error) {
	p, err := blobPath(d)
	if err != nil {
		return "", err
	}
	fi, err := lstatRegular(fsys, p)
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if fi.Size() != d.Size {
		return "", errorf(ErrDigest, "blob %s holds %d bytes, its descriptor says %d", d.Digest, fi.Size(), d.Size)
	}
	return p, nil
}

// readBlob reads and verifies a JSON blob (index, manifest, config).
func readBlob(fsys fs.FS, d ocispec.Descriptor, max int64) ([]byte, error) {
	p, err := statBlob(fsys, d)
	if err != nil {
		return nil, err
	}
	if d.Size > max {
		return nil, errorf(ErrTooLarge, "blob %s of %d bytes, more than %d", d.Digest, d.Size, max)
	}
	b, err := readAll(fsys, p, d.Size)
	if err != nil {
		return nil, err
	}
	if got := d.Digest.Algorithm().FromBytes(b); got != d.Digest {
		return nil, errorf(ErrDigest, "blob %s has digest %s", d.Digest, got)
	}
	return b, nil
}

// hashFile digests a file as it is stored.
func hashFile(fsys fs.FS, name string, alg digest.Algorithm) (digest.Digest, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	defer f.Close()
	d, err := alg.FromReader(f)
	if err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	return d, nil
}

// verifyBlob checks a layer blob's size and, if asked, its digest.
func verifyBlob(fsys fs.FS, d ocispec.Descriptor, hash bool) error {
	p, err := statBlob(fsys, d)
	if err != nil || !hash {
		return err
	}
	got, err := hashFile(fsys, p, d.Digest.Algorithm())
	if err != nil {
		return err
	}
	if got != d.Digest {
		return errorf(ErrDigest, "blob %s has digest %s", d.Digest, got)
	}
	return nil
}
