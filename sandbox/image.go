package sandbox

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	ctdarchive "github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sandscan/sandscan/sandbox/archive"
	"github.com/sandscan/sandscan/trace"
)

// snapshotter is containerd's overlay snapshotter: the fs diff reads its
// upper directory.
const snapshotter = "overlayfs"

// digestPrefix names imported images that carry no name of their own.
const digestPrefix = "import.sandscan.local/digest"

// Image is an image held by the project's containerd, ready to run.
type Image struct {
	Source Source
	image  containerd.Image
	Info   trace.Image
}

// Credentials log in to a registry for a pull.
type Credentials struct {
	Username, Password string
}

// LogValue keeps the password out of logs.
func (c Credentials) LogValue() string { return c.Username + ":<redacted>" }

// PullOption changes how Import fetches from a registry.
type PullOption func(*pullConfig)

type pullConfig struct {
	creds     *Credentials
	plainHTTP bool
}

// WithCredentials logs in to the registry with user and password.
func WithCredentials(c Credentials) PullOption {
	return func(p *pullConfig) { p.creds = &c }
}

// WithPlainHTTP talks HTTP rather than HTTPS to the registry. Loopback
// registries get it without asking.
func WithPlainHTTP() PullOption {
	return func(p *pullConfig) { p.plainHTTP = true }
}

// ErrImage wraps every failure to get an image: a missing or malformed
// archive, a registry that refuses, an image for another platform.
var ErrImage = errors.New("image")

// Import brings the image src names into containerd and unpacks it.
func (s *Sandbox) Import(ctx context.Context, src Source, opts ...PullOption) (*Image, error) {
	ctx = s.withNamespace(ctx)
	var (
		img containerd.Image
		err error
	)
	switch src.Kind {
	case OCIArchive, DockerArchive:
		img, err = s.importArchive(ctx, src)
	case OCIDir:
		img, err = s.importLayout(ctx, src)
	case Registry:
		img, err = s.pull(ctx, src, opts)
	default:
		err = fmt.Errorf("unknown source kind %q", src.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrImage, src, err)
	}
	if err := img.Unpack(ctx, snapshotter); err != nil {
		return nil, fmt.Errorf("%w: unpack %s: %w", ErrImage, src, err)
	}
	info, err := describe(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrImage, src, err)
	}
	info.Ref = src.String()
	return &Image{Source: src, image: img, Info: info}, nil
}

// importArchive checks the archive before containerd reads it: image
// content is untrusted, and the inspector's errors say what is wrong.
func (s *Sandbox) importArchive(ctx context.Context, src Source) (containerd.Image, error) {
	info, err := archive.InspectFile(src.Path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.importStream(ctx, f, info.ManifestDigest)
}

// importLayout streams an OCI layout directory as the tar Import reads.
func (s *Sandbox) importLayout(ctx context.Context, src Source) (containerd.Image, error) {
	info, err := archive.InspectDir(src.Path, src.Ref)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarDir(pw, src.Path)) }()
	defer pr.Close()
	return s.importStream(ctx, pr, info.ManifestDigest)
}

// importStream imports an archive and returns the image whose target is
// digest, the one the inspector chose (by tag and platform).
func (s *Sandbox) importStream(ctx context.Context, r io.Reader, digest string) (containerd.Image, error) {
	imgs, err := s.client.Import(ctx, r,
		containerd.WithImportPlatform(platforms.DefaultStrict()),
		containerd.WithDigestRef(ctdarchive.DigestTranslator(digestPrefix)),
		// Name by digest only what carries no name, so named images are
		// not recorded twice.
		containerd.WithSkipDigestRef(func(name string) bool { return name != "" }),
	)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, errors.New("archive holds no image")
	}
	for _, im := range imgs {
		if im.Target.Digest.String() == digest {
			return containerd.NewImageWithPlatform(s.client, im, platforms.DefaultStrict()), nil
		}
	}
	return nil, fmt.Errorf("containerd imported no image with digest %s", digest)
}

func (s *Sandbox) pull(ctx context.Context, src Source, opts []PullOption) (containerd.Image, error) {
	var pc pullConfig
	for _, o := range opts {
		o(&pc)
	}
	host := strings.SplitN(src.Ref, "/", 2)[0]
	scheme := "https"
	if pc.plainHTTP || isLoopbackHost(host) {
		scheme = "http"
	}
	hostOpts := config.HostOptions{DefaultScheme: scheme}
	if pc.creds != nil {
		creds := *pc.creds
		hostOpts.Credentials = func(string) (string, string, error) {
			return creds.Username, creds.Password, nil
		}
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: config.ConfigureHosts(ctx, hostOpts)})
	return s.client.Pull(ctx, src.Ref,
		containerd.WithResolver(resolver),
		containerd.WithPlatformMatcher(platforms.DefaultStrict()),
	)
}

func isLoopbackHost(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "[::1]"
}

// describe reads what the image config asks for.
func describe(ctx context.Context, img containerd.Image) (trace.Image, error) {
	var ociImg ocispec.Image
	spec, err := img.Spec(ctx)
	if err != nil {
		return trace.Image{}, fmt.Errorf("read image config: %w", err)
	}
	ociImg = spec
	size, _ := img.Size(ctx)
	c := ociImg.Config
	return trace.Image{
		Name:       img.Name(),
		Digest:     img.Target().Digest.String(),
		Platform:   ociImg.OS + "/" + ociImg.Architecture,
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		Env:        c.Env,
		User:       c.User,
		WorkingDir: c.WorkingDir,
		Size:       size,
	}, nil
}

// tarDir writes the regular files and directories under dir as a tar
// stream; symlinks are refused because a layout needs none.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return fmt.Errorf("%s: not a regular file or directory", rel)
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
