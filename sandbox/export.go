package sandbox

import (
	"context"
	"fmt"
	"io"

	ctdarchive "github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/platforms"
)

// Export writes img as an OCI archive (an OCI layout tarball, with a
// docker manifest.json beside it) that Import reads back under the same
// manifest digest. Only the default platform's blobs are written: a
// multi-platform index keeps its own digest, but the other platforms'
// manifests are absent from the archive. Workers keep this copy in the
// store so a later rescan needs no registry.
func (s *Sandbox) Export(ctx context.Context, img *Image, w io.Writer) error {
	ctx = s.withNamespace(ctx)
	err := s.client.Export(ctx, w,
		ctdarchive.WithImage(s.client.ImageService(), img.image.Name()),
		ctdarchive.WithPlatform(platforms.DefaultStrict()),
	)
	if err != nil {
		return fmt.Errorf("%w: export %s: %w", ErrSandbox, img.Info.Digest, err)
	}
	return nil
}
