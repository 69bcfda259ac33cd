package sandbox

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/mount"

	"github.com/sandscan/sandscan/sandbox/fsdiff"
	"github.com/sandscan/sandscan/trace"
)

// diff records what the run changed in its root filesystem and scratch
// mounts. A failure here is noted in the Run, not fatal: the trace still
// says most of what happened.
func (r *runner) diff(ctx context.Context, run *trace.Run) {
	mounts, err := r.s.client.SnapshotService(snapshotter).Mounts(ctx, r.id)
	if err != nil {
		run.Errors = append(run.Errors, "fs diff: "+err.Error())
		return
	}
	upper, lowers, err := overlayDirs(mounts)
	if err != nil {
		run.Errors = append(run.Errors, "fs diff: "+err.Error())
		return
	}
	res, err := fsdiff.Diff(ctx, upper, lowers,
		fsdiff.Scratch("/tmp", filepath.Join(r.dir, "scratch/tmp")),
		fsdiff.Scratch("/dev/shm", filepath.Join(r.dir, "scratch/shm")),
	)
	if err != nil {
		run.Errors = append(run.Errors, "fs diff: "+err.Error())
		return
	}
	for _, c := range res.Changes {
		if !mountPoints[c.Path] {
			run.Files = append(run.Files, c)
		}
	}
	run.Artifacts = res.Artifacts
	run.Diffed = true
	run.Errors = append(run.Errors, res.Errors...)
}

// mountPoints are made in the root filesystem by runsc for the sandbox's
// own mounts: they are not the workload's doing.
var mountPoints = map[string]bool{
	"/tmp": true, "/run": true, "/dev": true, "/dev/shm": true, "/proc": true, "/sys": true,
	"/etc/resolv.conf": true, "/etc/hosts": true, "/etc/hostname": true,
}

// overlayDirs finds the upper and lower directories of a snapshot's
// mounts. A snapshot with no parent is a plain bind of one directory: all
// of it is the upper.
func overlayDirs(mounts []mount.Mount) (upper string, lowers []string, err error) {
	if len(mounts) != 1 {
		return "", nil, errors.New("unexpected snapshot mounts")
	}
	m := mounts[0]
	switch m.Type {
	case "bind", "rbind":
		return m.Source, nil, nil
	case "overlay":
		for _, o := range m.Options {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "upperdir":
				upper = v
			case "lowerdir":
				lowers = strings.Split(v, ":")
			}
		}
		if upper == "" {
			return "", nil, errors.New("overlay snapshot has no upperdir")
		}
		return upper, lowers, nil
	}
	return "", nil, errors.New("unsupported snapshot mount type " + m.Type)
}
