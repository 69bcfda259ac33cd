package archive

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// parseConfig decodes an image config and checks that it is for the
// platform: containerd refuses to unpack an image for another one.
func parseConfig(b []byte, cfg config) (*ocispec.Image, error) {
	var img ocispec.Image
	if err := decodeJSON("image config", b, &img); err != nil {
		return nil, err
	}
	if !cfg.matches(img.OS, img.Architecture, img.Variant) {
		return nil, errorf(ErrPlatform, "the image is for %s, not %s",
			platformOf(img.OS, img.Architecture, img.Variant), cfg.platformString())
	}
	if img.RootFS.Type != "layers" {
		return nil, errorf(ErrMalformed, "image config rootfs type %q", img.RootFS.Type)
	}
	return &img, nil
}

func setConfig(info *Info, img *ocispec.Image) {
	c := img.Config
	info.Platform = platformOf(img.OS, img.Architecture, img.Variant)
	info.Config = Config{
		Entrypoint:   c.Entrypoint,
		Cmd:          c.Cmd,
		Env:          c.Env,
		User:         c.User,
		WorkingDir:   c.WorkingDir,
		Labels:       c.Labels,
		OS:           img.OS,
		Architecture: img.Architecture,
		Variant:      img.Variant,
	}
}
