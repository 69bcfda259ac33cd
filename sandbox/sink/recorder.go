package sink

import (
	"context"
	"sync"

	"github.com/sandscan/sandscan/trace"
)

// Result is what a Recorder collected for its container.
type Result struct {
	// Events are in arrival order, numbered by Seq from 1.
	Events []trace.Event
	// Total counts every event accepted, kept or not.
	Total uint64
	// Dropped counts events lost: those gVisor reported it could not send
	// on the container's connections, and those past the event cap.
	Dropped uint64
	// Malformed counts packets on the container's connections that did
	// not decode; Unknown those of a message type this sink does not know.
	Malformed uint64
	Unknown   uint64
}

// Recorder collects the events of one container (or, from WatchAll, of
// every container nobody else watches).
type Recorder struct {
	s    *Sink
	id   string
	any  bool
	wake chan struct{}

	mu       sync.Mutex
	events   []trace.Event
	total    uint64
	overflow uint64
	conns    map[*conn]struct{}
	finished bool
	result   Result
}

func newRecorder(s *Sink, id string) *Recorder {
	return &Recorder{s: s, id: id, wake: make(chan struct{}, 1), conns: map[*conn]struct{}{}}
}

// poke wakes a waiting Finish to look again.
func (r *Recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// add records an event that arrived on c; false once the recorder is done.
func (r *Recorder) add(c *conn, ev trace.Event) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return false
	}
	if _, ok := r.conns[c]; !ok {
		r.conns[c] = struct{}{}
		c.recs[r] = struct{}{}
		r.poke()
	}
	r.total++
	if len(r.events) >= r.s.opts.eventCap {
		r.overflow++
		return true
	}
	ev.Seq = uint64(len(r.events)) + 1
	r.events = append(r.events, ev)
	return true
}

// Finish waits until every connection that carried the container's events
// has closed (runsc closes it when the sandbox goes away), or ctx ends, or
// the sink is closed, then stops recording and returns what was recorded.
// If no event of the container ever arrives, only ctx or Close end the
// wait: give ctx a deadline. Later calls return the same Result.
func (r *Recorder) Finish(ctx context.Context) Result {
	for !r.drained() {
		select {
		case <-r.wake:
			continue
		case <-ctx.Done():
		case <-r.s.done:
		}
		break
	}
	r.s.unwatch(r)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return r.result
	}
	r.finished = true
	res := Result{Events: r.events, Total: r.total, Dropped: r.overflow}
	for c := range r.conns {
		res.Dropped += c.dropped.Load()
		res.Malformed += c.malformed.Load()
		res.Unknown += c.unknown.Load()
	}
	r.events, r.result = nil, res
	return res
}

// drained reports whether the recorder saw a connection and all of its
// connections have closed.
func (r *Recorder) drained() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return true
	}
	if len(r.conns) == 0 {
		return false
	}
	for c := range r.conns {
		if !c.closed.Load() {
			return false
		}
	}
	return true
}
