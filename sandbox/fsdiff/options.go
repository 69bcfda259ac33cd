package fsdiff

import (
	"log/slog"
)

// Limits bound the work one Diff does on a hostile tree. A zero field takes
// its default from DefaultLimits.
type Limits struct {
	// MaxEntries is the number of directory entries read over all layers.
	MaxEntries int
	// MaxDepth is how many directories deep the walk goes below a root.
	MaxDepth int
	// MaxPathLen is the longest container path reported, in bytes.
	MaxPathLen int
	// HashMax is the largest file hashed: a bigger file gets no SHA256
	// (a prefix hash would look like a file hash and match nothing).
	HashMax int64
	// HashTotal is the number of bytes hashed over the whole diff; files
	// past it get no SHA256.
	HashTotal int64
	// ArtifactMax is the most kept of one file; a longer one is cut and
	// its Artifact marked Truncated.
	ArtifactMax int64
	// ArtifactTotal is the most kept over all artifacts.
	ArtifactTotal int64
	// ArtifactCount is the most artifacts kept.
	ArtifactCount int
	// MaxErrors is the most problems listed in Result.Errors.
	MaxErrors int
}

// DefaultLimits returns the limits Diff uses unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:    100_000,
		MaxDepth:      64,
		MaxPathLen:    4096,
		HashMax:       64 << 20,
		HashTotal:     1 << 30,
		ArtifactMax:   1 << 20,
		ArtifactTotal: 16 << 20,
		ArtifactCount: 64,
		MaxErrors:     100,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxEntries, d.MaxEntries)
	set(&l.MaxDepth, d.MaxDepth)
	set(&l.MaxPathLen, d.MaxPathLen)
	set64(&l.HashMax, d.HashMax)
	set64(&l.HashTotal, d.HashTotal)
	set64(&l.ArtifactMax, d.ArtifactMax)
	set64(&l.ArtifactTotal, d.ArtifactTotal)
	set(&l.ArtifactCount, d.ArtifactCount)
	set(&l.MaxErrors, d.MaxErrors)
	return l
}

type scratch struct {
	prefix string
	dir    string
}

type config struct {
	limits  Limits
	scratch []scratch
	log     *slog.Logger
}

// Option changes how Diff works.
type Option func(*config)

// Scratch also walks the host directory dir as if it were mounted at the
// container path prefix (such as "/tmp"), reporting everything in it as
// created. The runner gives the container such mounts because gVisor keeps
// its own tmpfs at /tmp and /dev/shm, whose writes never reach the upper
// directory. A scratch entry replaces an upper entry of the same path.
func Scratch(prefix, dir string) Option {
	return func(c *config) { c.scratch = append(c.scratch, scratch{prefix: prefix, dir: dir}) }
}

// WithLimits replaces the default limits; zero fields keep their default.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limits = l }
}

// WithLogger sets where Diff logs what it cut short; slog.Default() if unset.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}
