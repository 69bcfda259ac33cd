package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Build assembles the image a Spec describes. Directory layers are listed
// now but streamed from the host each time the image's layers are read, so
// the directories must stay unchanged until the image has been written.
func Build(ctx context.Context, spec Spec) (v1.Image, error) {
	if len(spec.Layers) == 0 && len(spec.Dirs) == 0 && len(spec.Files) == 0 {
		return nil, errors.New("imagebuild: spec has no Layers, Dirs or Files")
	}
	created := spec.created()
	hist := func(what string) v1.History {
		return v1.History{Created: v1.Time{Time: created}, CreatedBy: "sandscan imagebuild: " + what, Comment: spec.Name}
	}
	var adds []mutate.Addendum
	for i, l := range spec.Layers {
		if l == nil {
			return nil, fmt.Errorf("imagebuild %s: layer %d is nil", spec.Name, i)
		}
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("imagebuild %s: layer %d: %w", spec.Name, i, err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: hist("prebuilt layer"), MediaType: mt})
	}
	for _, dir := range spec.Dirs {
		entries, err := planDir(ctx, dir, created)
		if err != nil {
			return nil, fmt.Errorf("imagebuild %s: %w", spec.Name, err)
		}
		l, err := newLayer(entries, false)
		if err != nil {
			return nil, fmt.Errorf("imagebuild %s: %s: %w", spec.Name, dir, err)
		}
		slog.DebugContext(ctx, "imagebuild: directory layer", "image", spec.Name, "dir", dir, "entries", len(entries))
		adds = append(adds, mutate.Addendum{Layer: l, History: hist("root filesystem directory"), MediaType: types.OCILayer})
	}
	if len(spec.Files) > 0 {
		entries, err := planFiles(spec.Files, created)
		if err != nil {
			return nil, fmt.Errorf("imagebuild %s: %w", spec.Name, err)
		}
		l, err := newLayer(entries, true)
		if err != nil {
			return nil, fmt.Errorf("imagebuild %s: files: %w", spec.Name, err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: hist("files"), MediaType: types.OCILayer})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("imagebuild %s: append layers: %w", spec.Name, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("imagebuild %s: config: %w", spec.Name, err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = spec.OS, spec.Architecture
	if cf.OS == "" {
		cf.OS = "linux"
	}
	if cf.Architecture == "" {
		cf.Architecture = runtime.GOARCH
	}
	c := spec.Config
	cf.Config = v1.Config{
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		Env:        c.Env,
		WorkingDir: c.WorkingDir,
		User:       c.User,
		Labels:     c.Labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("imagebuild %s: set config: %w", spec.Name, err)
	}
	return img, nil
}
