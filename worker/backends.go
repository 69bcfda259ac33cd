package worker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/embedded"
	"github.com/sandscan/sandscan/queue/jetstream"
	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/fs"
	"github.com/sandscan/sandscan/store/s3"
)

// Queue and store backends OpenBackends knows.
const (
	QueueEmbedded = "embedded"
	QueueNATS     = "nats"
	StoreFS       = "fs"
	StoreS3       = "s3"
)

// Environment variables BackendConfigFromEnv reads (the S3 settings are
// store/s3's SANDSCAN_S3_*).
const (
	EnvQueue   = "SANDSCAN_QUEUE"
	EnvNATSURL = "SANDSCAN_NATS_URL"
	EnvStore   = "SANDSCAN_STORE"
)

// Paths of the embedded defaults under the state dir.
const (
	queueFile = "queue.db"
	storeDir  = "store"
)

// DefaultQueuePath is the embedded queue's file under the state dir.
func DefaultQueuePath(stateDir string) string { return filepath.Join(stateDir, queueFile) }

// DefaultStorePath is the filesystem store's directory under the state dir.
func DefaultStorePath(stateDir string) string { return filepath.Join(stateDir, storeDir) }

// BackendConfig says which queue and store to open. The zero value with
// a StateDir opens the embedded defaults: the bbolt queue at
// DefaultQueuePath and the filesystem store at DefaultStorePath.
type BackendConfig struct {
	StateDir string

	// Queue is QueueEmbedded (default) or QueueNATS.
	Queue string
	// QueuePath is the embedded queue's file (default DefaultQueuePath).
	QueuePath string
	// NATSURL is the NATS server for QueueNATS (nats://host:port).
	NATSURL string
	// JetStream names the NATS resources; its queue.Config is ignored in
	// favour of QueueConfig.
	JetStream jetstream.Config
	// QueueConfig tunes delivery (ack wait, deliveries, backoff) on
	// either backend.
	QueueConfig queue.Config

	// Store is StoreFS (default) or StoreS3.
	Store string
	// StorePath is the filesystem store's directory (default DefaultStorePath).
	StorePath string
	S3        s3.Config

	Log *slog.Logger
}

// BackendConfigFromEnv reads SANDSCAN_QUEUE, SANDSCAN_NATS_URL,
// SANDSCAN_STORE and the SANDSCAN_S3_* variables through getenv
// (os.Getenv when nil), so flags registered afterwards default to them.
func BackendConfigFromEnv(stateDir string, getenv func(string) string) (BackendConfig, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s3cfg, err := s3.FromEnv(getenv)
	if err != nil {
		return BackendConfig{}, err
	}
	return BackendConfig{
		StateDir: stateDir,
		Queue:    getenv(EnvQueue),
		NATSURL:  getenv(EnvNATSURL),
		Store:    getenv(EnvStore),
		S3:       s3cfg,
	}, nil
}

// RegisterFlags adds --queue, --nats-url, --queue-path, --store,
// --store-path and the --s3-* flags to fs, with c's values as defaults.
func (c *BackendConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Queue, "queue", c.Queue, "queue backend: embedded or nats (env "+EnvQueue+"; default embedded)")
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "NATS server for --queue nats (env "+EnvNATSURL+")")
	fs.StringVar(&c.QueuePath, "queue-path", c.QueuePath, "embedded queue file (default <state>/"+queueFile+")")
	fs.StringVar(&c.Store, "store", c.Store, "store backend: fs or s3 (env "+EnvStore+"; default fs)")
	fs.StringVar(&c.StorePath, "store-path", c.StorePath, "filesystem store directory (default <state>/"+storeDir+")")
	c.S3.RegisterFlags(fs)
}

// Validate checks the backend names and what each needs, before anything
// is opened (an S3 store waits for its service).
func (c BackendConfig) Validate() error {
	switch c.Store {
	case "", StoreFS:
		if c.StorePath == "" && c.StateDir == "" {
			return fmt.Errorf("%w: fs store needs a state dir or a path", ErrBackend)
		}
	case StoreS3:
		if err := c.S3.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrBackend, err)
		}
	default:
		return fmt.Errorf("%w: unknown store %q (want fs or s3)", ErrBackend, c.Store)
	}
	switch c.Queue {
	case "", QueueEmbedded:
		if c.QueuePath == "" && c.StateDir == "" {
			return fmt.Errorf("%w: embedded queue needs a state dir or a path", ErrBackend)
		}
	case QueueNATS:
		if c.NATSURL == "" {
			return fmt.Errorf("%w: --queue nats needs --nats-url (%s)", ErrBackend, EnvNATSURL)
		}
	default:
		return fmt.Errorf("%w: unknown queue %q (want embedded or nats)", ErrBackend, c.Queue)
	}
	return nil
}

// ErrBackend is returned for a backend name OpenBackends does not know or
// a configuration it cannot use.
var ErrBackend = errors.New("worker: backend")

// OpenBackends opens the queue and the store cfg names. close releases
// both. The embedded queue's file admits one process at a time: an API
// and workers sharing it run in one process (sandscan serve).
func OpenBackends(ctx context.Context, cfg BackendConfig) (queue.Queue, store.Store, func() error, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, err
	}
	var st store.Store
	switch cfg.Store {
	case "", StoreFS:
		p := cfg.StorePath
		if p == "" {
			p = DefaultStorePath(cfg.StateDir)
		}
		s, err := fs.Open(p)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("worker: open store: %w", err)
		}
		st = s
	case StoreS3:
		s, err := s3.Open(ctx, cfg.S3, log)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("worker: open store: %w", err)
		}
		st = s
	}

	var q queue.Queue
	switch cfg.Queue {
	case "", QueueEmbedded:
		p := cfg.QueuePath
		if p == "" {
			p = DefaultQueuePath(cfg.StateDir)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return nil, nil, nil, fmt.Errorf("worker: open queue: %w", err)
		}
		eq, err := embedded.Open(p, cfg.QueueConfig, log)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("worker: open queue: %w", err)
		}
		q = eq
	case QueueNATS:
		js := cfg.JetStream
		js.Config = cfg.QueueConfig
		jq, err := jetstream.Connect(ctx, cfg.NATSURL, js, log)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("worker: open queue: %w", err)
		}
		q = jq
	}
	// Neither store backend holds resources to release; the queue does.
	return q, st, q.Close, nil
}
