package archive

// Limits bound what Inspect accepts. A zero field takes its default from
// DefaultLimits.
type Limits struct {
	// MaxEntries is the most tar entries an archive may hold.
	MaxEntries int
	// MaxSize is the most bytes the archive's files may hold in total.
	MaxSize int64
	// MaxJSON is the largest index, manifest, config or manifest.json.
	MaxJSON int64
	// MaxDepth is how many indexes deep an index may nest.
	MaxDepth int
	// MaxLayers is the most layers one image may have.
	MaxLayers int
	// MaxManifests is the most descriptors one index may list.
	MaxManifests int
	// MaxNameLen is the longest entry name, in bytes.
	MaxNameLen int
}

// DefaultLimits returns the limits Inspect uses unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:   10_000,
		MaxSize:      16 << 30,
		MaxJSON:      4 << 20,
		MaxDepth:     4,
		MaxLayers:    256,
		MaxManifests: 1024,
		MaxNameLen:   1024,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxSize <= 0 {
		l.MaxSize = d.MaxSize
	}
	if l.MaxJSON <= 0 {
		l.MaxJSON = d.MaxJSON
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxLayers <= 0 {
		l.MaxLayers = d.MaxLayers
	}
	if l.MaxManifests <= 0 {
		l.MaxManifests = d.MaxManifests
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = d.MaxNameLen
	}
	return l
}

type config struct {
	limits       Limits
	os, arch     string
	variant      string
	tag          string
	verifyLayers bool
}

// Option changes how Inspect works.
type Option func(*config)

// WithLimits replaces the default limits; zero fields keep their default.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithPlatform picks the image for another platform than linux/amd64 in a
// multi-platform index. An empty variant matches any.
func WithPlatform(os, arch, variant string) Option {
	return func(c *config) { c.os, c.arch, c.variant = os, arch, variant }
}

// WithTag picks the image named tag (a full reference, or the part after
// its last ":") rather than the archive's first image.
func WithTag(tag string) Option { return func(c *config) { c.tag = tag } }

// SkipLayerDigests does not hash the layers of an OCI image. Manifests and
// configs are always verified, and a docker archive's layers are always
// hashed, since containerd computes its manifest from their digests.
func SkipLayerDigests() Option { return func(c *config) { c.verifyLayers = false } }

func newConfig(opts []Option) config {
	c := config{limits: DefaultLimits(), os: "linux", arch: "amd64", verifyLayers: true}
	for _, o := range opts {
		o(&c)
	}
	c.limits = c.limits.withDefaults()
	return c
}
