package sink

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"
	pb "gvisor.dev/gvisor/pkg/sentry/seccheck/points/points_go_proto"
	"gvisor.dev/gvisor/pkg/sentry/seccheck/sinks/remote/wire"

	"github.com/sandscan/sandscan/trace"
)

// conn is one sandbox's trace stream. Everything but the atomic counters
// belongs to its serve goroutine.
type conn struct {
	s  *Sink
	uc *net.UnixConn

	// Read by Recorder.Finish while the connection runs.
	dropped   atomic.Uint64
	malformed atomic.Uint64
	unknown   atomic.Uint64
	closed    atomic.Bool

	lastDropped uint32
	// pending holds, per thread, a syscall's enter point until its exit
	// arrives: a thread is in at most one syscall at a time.
	pending map[int32]decoded
	// recs are the recorders this connection delivered events to.
	recs map[*Recorder]struct{}
}

func newConn(s *Sink, uc *net.UnixConn) *conn {
	return &conn{s: s, uc: uc, pending: map[int32]decoded{}, recs: map[*Recorder]struct{}{}}
}

func (c *conn) serve() {
	log := c.s.opts.log
	defer func() {
		c.uc.Close()
		c.flushPending()
		c.closed.Store(true)
		for r := range c.recs {
			r.poke()
		}
	}()
	buf := make([]byte, c.s.opts.maxPacket)
	if err := c.handshake(buf); err != nil {
		c.s.st.badHandshakes.Add(1)
		log.Warn("trace sink: bad handshake, closing", "err", err)
		return
	}
	log.Debug("trace sink: sandbox connected")
	for {
		n, _, flags, _, err := c.uc.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			// n == 0: the peer closed; gVisor never sends empty packets.
			return
		}
		if flags&syscall.MSG_TRUNC != 0 {
			c.bad(fmt.Errorf("%w: packet over %d bytes", ErrMalformed, len(buf)))
		} else {
			c.packet(buf[:n])
		}
		// Counted once handled, so that a count seen means its work is done.
		c.s.st.messages.Add(1)
	}
}

// handshake reads the peer's Handshake and answers with ours, as gVisor's
// remote sink expects before it sends any point.
func (c *conn) handshake(buf []byte) error {
	if err := c.uc.SetReadDeadline(time.Now().Add(c.s.opts.handshakeTimeout)); err != nil {
		return err
	}
	n, _, flags, _, err := c.uc.ReadMsgUnix(buf, nil)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if flags&syscall.MSG_TRUNC != 0 || n == 0 {
		return errors.New("handshake packet empty or too long")
	}
	var hs pb.Handshake
	if err := proto.Unmarshal(buf[:n], &hs); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if hs.Version < wire.CurrentVersion {
		return fmt.Errorf("version %d, want %d or later", hs.Version, wire.CurrentVersion)
	}
	out, err := proto.Marshal(&pb.Handshake{Version: wire.CurrentVersion})
	if err != nil {
		return err
	}
	if _, err := c.uc.Write(out); err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	return c.uc.SetReadDeadline(time.Time{})
}

// packet handles one packet: the wire header, then one message.
func (c *conn) packet(p []byte) {
	if len(p) < wire.HeaderStructSize {
		c.bad(fmt.Errorf("%w: packet of %d bytes has no header", ErrMalformed, len(p)))
		return
	}
	// Honour the header's own size so that a newer gVisor may grow it.
	size := int(binary.LittleEndian.Uint16(p[0:2]))
	typ := binary.LittleEndian.Uint16(p[2:4])
	if size < wire.HeaderStructSize || size > len(p) {
		c.bad(fmt.Errorf("%w: header size %d in a %d-byte packet", ErrMalformed, size, len(p)))
		return
	}
	// gVisor's dropped count is cumulative per sink and wraps at 2^32.
	if d := binary.LittleEndian.Uint32(p[4:8]); d != c.lastDropped {
		c.dropped.Add(uint64(d - c.lastDropped))
		c.lastDropped = d
	}
	d, err := decode(typ, p[size:])
	switch {
	case err == nil:
		c.pair(d)
	case errors.Is(err, ErrSkipped):
		c.s.st.skipped.Add(1)
	case errors.Is(err, ErrUnknownType):
		c.unknown.Add(1)
		c.s.st.unknown.Add(1)
	default:
		c.bad(err)
	}
}

func (c *conn) bad(err error) {
	if c.malformed.Add(1) == 1 {
		c.s.opts.log.Warn("trace sink: malformed message (later ones are only counted)", "err", err)
	}
	c.s.st.malformed.Add(1)
}

// pair joins a syscall's enter and exit points into one event, so that an
// execve carries both its argv and its result, and passes every other
// event on. An enter whose exit never comes (the call blocked, or the
// thread died in it) is still delivered: when the thread enters another
// syscall, exits, or the connection ends. A paired event keeps the enter's
// time and context (who called, from where) and takes the exit's result.
//
// gVisor emits execve's exit point before it loads the new image, always
// with result 0 unless the arguments were bad. What really happened shows
// in what the thread does next: a sentry/execve event means the exec
// succeeded; another syscall or its exit means it failed, for a reason the
// trace does not tell (Ret -1, Errno ErrnoUnknown).
func (c *conn) pair(d decoded) {
	tid := d.ev.TID
	if tid == 0 {
		c.emit(d) // without a thread id nothing can be paired
		return
	}
	p, has := c.pending[tid]
	if has && p.await && (d.ev.Syscall != "" || d.ev.Kind == trace.KindExit) {
		delete(c.pending, tid)
		p.ev.Ret, p.ev.Errno = -1, ErrnoUnknown
		c.emit(p)
		has = false
	}
	switch {
	case d.enter:
		if has {
			c.emit(p)
		} else if len(c.pending) >= c.s.opts.maxPending {
			c.evictOne()
		}
		c.pending[tid] = d
	case d.ev.Syscall != "":
		if has {
			delete(c.pending, tid)
			if p.ev.Syscall == d.ev.Syscall {
				d = merge(p, d)
			} else {
				c.emit(p)
			}
		}
		if d.ev.Kind == trace.KindExecve && d.ev.Errno == 0 {
			if !has && len(c.pending) >= c.s.opts.maxPending {
				c.evictOne()
			}
			d.await = true
			c.pending[tid] = d
			return
		}
		c.emit(d)
	case d.ev.Kind == trace.KindExit || d.ev.Kind == trace.KindExec:
		if has {
			delete(c.pending, tid)
			c.emit(p)
		}
		c.emit(d)
	default:
		c.emit(d)
	}
}

// merge completes an enter point's event with its exit's result. What the
// enter read (argv, the address) is kept: at exit the memory it came from
// may belong to a new program image.
func merge(enter, exit decoded) decoded {
	ev := enter.ev
	ev.Ret, ev.Errno = exit.ev.Ret, exit.ev.Errno
	if ev.Path == "" {
		ev.Path = exit.ev.Path
	}
	if ev.Argv == nil {
		ev.Argv = exit.ev.Argv
	}
	if ev.Env == nil {
		ev.Env = exit.ev.Env
	}
	if ev.Addr == nil {
		ev.Addr = exit.ev.Addr
	}
	if enter.cid == "" {
		enter.cid = exit.cid
	}
	return decoded{ev: ev, cid: enter.cid}
}

func (c *conn) evictOne() {
	for tid, p := range c.pending {
		delete(c.pending, tid)
		c.emit(p)
		return
	}
}

// flushPending delivers, oldest first, the enters that never saw their exit
// and the execves whose outcome never showed (left with Ret 0).
func (c *conn) flushPending() {
	ps := make([]decoded, 0, len(c.pending))
	for _, p := range c.pending {
		ps = append(ps, p)
	}
	clear(c.pending)
	slices.SortFunc(ps, func(a, b decoded) int {
		return cmp.Or(a.ev.Time.Compare(b.ev.Time), cmp.Compare(a.ev.TID, b.ev.TID))
	})
	for _, p := range ps {
		c.emit(p)
	}
}

func (c *conn) emit(d decoded) {
	c.s.deliver(c, d.cid, d.ev)
}
