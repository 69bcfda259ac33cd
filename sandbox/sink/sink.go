package sink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandscan/sandscan/trace"
)

// Option configures a Sink.
type Option func(*options)

type options struct {
	maxPacket        int
	eventCap         int
	maxPending       int
	handshakeTimeout time.Duration
	log              *slog.Logger
}

// WithMaxPacket bounds one packet (header and message); longer packets are
// counted as malformed. Default 1 MiB. gVisor cannot send more than its
// socket's send buffer (about 200 KiB) in one packet anyway.
func WithMaxPacket(n int) Option { return func(o *options) { o.maxPacket = n } }

// WithEventCap bounds how many events one Recorder keeps; past it events
// are counted (Result.Total, Result.Dropped) but not kept. Default 500000.
func WithEventCap(n int) Option { return func(o *options) { o.eventCap = n } }

// WithHandshakeTimeout bounds how long a new connection may take to send
// its handshake. Default 10 s.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *options) { o.handshakeTimeout = d }
}

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Stats counts what a Sink received over its life, all connections and
// containers together.
type Stats struct {
	Conns         uint64 // connections accepted
	BadHandshakes uint64 // connections closed for a bad handshake
	Messages      uint64 // packets handled after the handshake
	Events        uint64 // events handed to a Recorder
	Unwatched     uint64 // events of containers nobody watched
	Skipped       uint64 // well-formed messages not recorded (writes to files...)
	Unknown       uint64 // messages of a type this sink does not know
	Malformed     uint64 // packets or messages that did not decode
}

type stats struct {
	conns, badHandshakes, messages, events atomic.Uint64
	unwatched, skipped, unknown, malformed atomic.Uint64
}

// Sink receives gVisor's trace streams on a Unix SOCK_SEQPACKET socket and
// routes their events, by container id, to Recorders.
type Sink struct {
	opts options
	ln   *net.UnixListener
	path string
	st   stats

	mu       sync.Mutex
	closed   bool
	recs     map[string]*Recorder
	all      *Recorder
	conns    map[*conn]struct{}
	stop     chan struct{} // closed when shutting down
	done     chan struct{} // closed when every connection has ended
	connWG   sync.WaitGroup
	watchers sync.WaitGroup
}

// Listen creates the socket at path (replacing a stale socket left there)
// and serves connections until ctx ends or Close is called. The socket is
// made mode 0600: only the sandbox's user (root) may feed it events.
func Listen(ctx context.Context, path string, opts ...Option) (*Sink, error) {
	o := options{
		maxPacket:        1 << 20,
		eventCap:         500000,
		maxPending:       4096,
		handshakeTimeout: 10 * time.Second,
		log:              slog.Default(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxPacket < 64 || o.eventCap < 0 || o.handshakeTimeout <= 0 {
		return nil, fmt.Errorf("listen %s: bad options", path)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("listen %s: exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("listen %s: remove stale socket: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	s := &Sink{
		opts:  o,
		ln:    ln,
		path:  path,
		recs:  map[string]*Recorder{},
		conns: map[*conn]struct{}{},
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	s.watchers.Add(2)
	go s.acceptLoop()
	go func() {
		defer s.watchers.Done()
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Path returns the socket's path, the endpoint for PodInitConfig.
func (s *Sink) Path() string { return s.path }

// Close stops accepting, closes every connection and waits until all of
// the sink's goroutines have ended. Pending Finish calls then return.
func (s *Sink) Close() error {
	s.shutdown()
	<-s.done
	s.watchers.Wait()
	return nil
}

// shutdown closes the listener and the connections; it does not wait.
func (s *Sink) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.stop)
	s.ln.Close()
	for c := range s.conns {
		c.uc.Close()
	}
}

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Conns:         s.st.conns.Load(),
		BadHandshakes: s.st.badHandshakes.Load(),
		Messages:      s.st.messages.Load(),
		Events:        s.st.events.Load(),
		Unwatched:     s.st.unwatched.Load(),
		Skipped:       s.st.skipped.Load(),
		Unknown:       s.st.unknown.Load(),
		Malformed:     s.st.malformed.Load(),
	}
}

// Watch returns a Recorder for the container's events. Call it before the
// container starts: events of containers nobody watches are discarded. A
// second Watch of the same id takes over the events that arrive after it.
func (s *Sink) Watch(containerID string) *Recorder {
	r := newRecorder(s, containerID)
	s.mu.Lock()
	s.recs[containerID] = r
	s.mu.Unlock()
	return r
}

// WatchAll returns a Recorder for the events of every container that no
// Watch names, as when the container id is not known in advance (runsc do).
func (s *Sink) WatchAll() *Recorder {
	r := newRecorder(s, "")
	r.any = true
	s.mu.Lock()
	s.all = r
	s.mu.Unlock()
	return r
}

func (s *Sink) unwatch(r *Recorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.any {
		if s.all == r {
			s.all = nil
		}
	} else if s.recs[r.id] == r {
		delete(s.recs, r.id)
	}
}

func (s *Sink) route(cid string) *Recorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.recs[cid]; r != nil {
		return r
	}
	return s.all
}

func (s *Sink) acceptLoop() {
	defer s.watchers.Done()
	defer close(s.done)
	defer s.connWG.Wait()
	for {
		uc, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, as net/http does,
			// rather than give up on every sandbox.
			s.opts.log.Error("trace sink: accept", "path", s.path, "err", err)
			select {
			case <-s.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		c := newConn(s, uc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			uc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		s.st.conns.Add(1)
		go func() {
			defer s.connWG.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// deliver hands an event to the recorder of its container.
func (s *Sink) deliver(c *conn, cid string, ev trace.Event) {
	if r := s.route(cid); r != nil && r.add(c, ev) {
		s.st.events.Add(1)
		return
	}
	s.st.unwatched.Add(1)
}
