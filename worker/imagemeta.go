package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/store"
)

// ImageMeta is kept beside each stored image archive, under
// ImageMetaKey: what a rescan needs to queue the image again (its
// format) and to filter it (its repository), without reading the archive.
type ImageMeta struct {
	Digest string `json:"digest"`
	// Format is analysis.FormatOCI or analysis.FormatDocker.
	Format     string    `json:"format"`
	Ref        string    `json:"ref,omitempty"`
	Repository string    `json:"repository,omitempty"`
	Stored     time.Time `json:"stored"`
}

// ImageMetaKey is the key of the ImageMeta of the archive under
// store.ImageKey(digest): images/sha256/<hex>.json.
func ImageMetaKey(digest string) (string, error) {
	k, err := store.ImageKey(digest)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(k, ".tar") + ".json", nil
}

// digestOfImageKey reverses store.ImageKey; ok is false for other keys
// (the metadata beside the archives among them).
func digestOfImageKey(key string) (string, bool) {
	h, ok := strings.CutPrefix(key, "images/sha256/")
	if !ok {
		return "", false
	}
	h, ok = strings.CutSuffix(h, ".tar")
	if !ok {
		return "", false
	}
	d := "sha256:" + h
	if k, err := store.ImageKey(d); err != nil || k != key {
		return "", false
	}
	return d, true
}

// readImageMeta returns the metadata of a stored image. Without any (an
// archive uploaded and never analysed), it inspects the archive itself
// for its format; Repository then stays empty.
func readImageMeta(ctx context.Context, st store.Store, digest, tempDir string) (ImageMeta, error) {
	mk, err := ImageMetaKey(digest)
	if err != nil {
		return ImageMeta{}, err
	}
	var m ImageMeta
	err = store.GetJSON(ctx, st, mk, &m)
	if err == nil && (m.Format == analysis.FormatOCI || m.Format == analysis.FormatDocker) {
		return m, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ImageMeta{}, err
	}
	ik, _ := store.ImageKey(digest)
	path, cleanup, err := fetchToFile(ctx, st, ik, tempDir)
	if err != nil {
		return ImageMeta{}, err
	}
	defer cleanup()
	info, err := archive.InspectFile(path)
	if err != nil {
		return ImageMeta{}, fmt.Errorf("%w: stored image %s: %w", errPermanent, digest, err)
	}
	m = ImageMeta{Digest: digest, Format: formatOf(info), Ref: info.Ref}
	return m, nil
}

// formatOf names an inspected archive's format as a Request does.
func formatOf(info *archive.Info) string {
	if info.Format == archive.FormatDocker {
		return analysis.FormatDocker
	}
	return analysis.FormatOCI
}

// fetchToFile copies a stored object to a temporary file in dir (Import
// and the inspector read files); cleanup removes it.
func fetchToFile(ctx context.Context, st store.Store, key, dir string) (path string, cleanup func(), err error) {
	rc, _, err := st.Get(ctx, key)
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, "sandscan-image-*.tar")
	if err != nil {
		return "", nil, fmt.Errorf("worker: %w", err)
	}
	cleanup = func() { os.Remove(f.Name()) }
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("worker: read %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("worker: %w", err)
	}
	return f.Name(), cleanup, nil
}
