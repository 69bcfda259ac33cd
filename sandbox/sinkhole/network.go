package sinkhole

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// closeWait bounds how long Close waits for Service handlers that ignore
// their closed connection and cancelled context.
const closeWait = 5 * time.Second

// Network is one run's sandbox namespace and the sinkhole behind it.
// Close it when the run ends, on every path.
type Network struct {
	cfg Config
	log *slog.Logger

	// Paths of the namespaces this Network made (empty until made), so
	// Close never removes one it did not create.
	sandboxNS, sinkNS string

	stack  *stack.Stack
	fd     int // the stack's packet socket, -1 when none
	cap    *capture
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	active  int
	flows   map[io.Closer]struct{}
	wg      sync.WaitGroup

	st counters

	closeOnce sync.Once
	closeErr  error
}

// Stats counts what a Network saw.
type Stats struct {
	// TCPConns were handed to the Service; TCPRefused were reset because
	// MaxFlows flows were open.
	TCPConns, TCPRefused int64
	// UDPFlows were opened (one per source and destination pair),
	// UDPDatagrams handed to the Service, UDPDropped lost to MaxFlows.
	UDPFlows, UDPDatagrams, UDPDropped int64
	// ICMPEchoes are echo requests received; each is answered.
	ICMPEchoes uint64
	// Panics were recovered from the Service.
	Panics int64
	// PCAPPackets were written to the pcap, PCAPDropped not (PCAPLimit).
	PCAPPackets, PCAPDropped int64
}

type counters struct {
	tcpConns, tcpRefused, udpFlows, udpDatagrams, udpDropped, panics atomic.Int64
}

// New creates the run's namespaces, the veth between them and the
// sinkhole's stack. On error everything it made is removed again.
func New(ctx context.Context, cfg Config) (_ *Network, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := &Network{cfg: cfg, log: cfg.Logger.With("run", cfg.RunID), fd: -1, flows: map[io.Closer]struct{}{}}
	// The handlers outlive New's ctx but keep its values (loggers, ids).
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("sinkhole %s: %w", cfg.RunID, err), n.Close())
		}
	}()

	if err := ensureNetNSDir(cfg.NetNSDir); err != nil {
		return nil, err
	}
	for _, ns := range []struct {
		path string
		dst  *string
	}{{sandboxNSPath(cfg.NetNSDir, cfg.RunID), &n.sandboxNS}, {sinkNSPath(cfg.NetNSDir, cfg.RunID), &n.sinkNS}} {
		if err := createNetNS(ns.path); err != nil {
			return nil, err
		}
		*ns.dst = ns.path
	}
	if err := setupSinkNS(n.sinkNS); err != nil {
		return nil, err
	}
	if err := setupSandboxNS(n.sandboxNS, cfg.NoIPv6); err != nil {
		return nil, err
	}
	v, err := createVeth(n.sinkNS, n.sandboxNS, cfg)
	if err != nil {
		return nil, err
	}
	capFD := -1
	err = inNetNS(n.sinkNS, func() error {
		var err error
		if n.fd, err = openPacketSocket(v.sinkIndex, true); err != nil {
			return err
		}
		if cfg.PCAPPath != "" {
			capFD, err = openPacketSocket(v.sinkIndex, false)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if capFD >= 0 {
		if n.cap, err = startCapture(capFD, cfg.PCAPPath, cfg.PCAPLimit); err != nil {
			return nil, err
		}
	}
	if n.stack, err = newStack(n.fd, v.sinkMAC, cfg, forwarders{tcp: n.handleTCP, udp: n.handleUDP}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n.log.Debug("sinkhole network up", "netns", n.sandboxNS, "address", cfg.Address, "gateway", cfg.Gateway)
	return n, nil
}

// NetNSPath is the sandbox's network namespace: the path the OCI spec's
// network namespace must name for runsc --network=sandbox.
func (n *Network) NetNSPath() string { return n.sandboxNS }

// Config is the configuration in effect, defaults filled in.
func (n *Network) Config() Config { return n.cfg }

// Stats returns the counts so far.
func (n *Network) Stats() Stats {
	s := Stats{
		TCPConns:     n.st.tcpConns.Load(),
		TCPRefused:   n.st.tcpRefused.Load(),
		UDPFlows:     n.st.udpFlows.Load(),
		UDPDatagrams: n.st.udpDatagrams.Load(),
		UDPDropped:   n.st.udpDropped.Load(),
		Panics:       n.st.panics.Load(),
	}
	if n.stack != nil {
		icmp := n.stack.Stats().ICMP
		s.ICMPEchoes = icmp.V4.PacketsReceived.EchoRequest.Value() + icmp.V6.PacketsReceived.EchoRequest.Value()
	}
	if n.cap != nil {
		s.PCAPPackets, s.PCAPDropped = n.cap.counts()
	}
	return s
}

// Close ends every connection, stops the stack, completes the pcap and
// removes the veth and both namespaces. It is safe to call more than once
// and on a partly made Network.
func (n *Network) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Network) close() error {
	n.cancel()
	n.mu.Lock()
	n.closing = true
	for c := range n.flows {
		c.Close()
	}
	n.mu.Unlock()

	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		n.log.Warn("sinkhole: service handlers still running at close")
	}

	if n.stack != nil {
		// Removing the NIC stops the link endpoint's readers; only then
		// may the socket be closed.
		n.stack.Destroy()
	}
	// Closing a packet socket and deleting a veth each wait for an RCU
	// grace period in the kernel; side by side they wait for one.
	var steps []func() error
	if n.fd >= 0 {
		fd := n.fd
		n.fd = -1
		steps = append(steps, func() error { return unix.Close(fd) })
	}
	if n.cap != nil {
		steps = append(steps, func() error {
			if err := n.cap.close(); err != nil {
				return fmt.Errorf("pcap: %w", err)
			}
			return nil
		})
	}
	if n.sinkNS != "" {
		steps = append(steps, func() error { return deleteVeth(n.sinkNS) })
	}
	errs := []error{parallel(steps...)}
	for _, p := range []string{n.sandboxNS, n.sinkNS} {
		if p != "" {
			errs = append(errs, deleteNetNS(p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sinkhole %s: close: %w", n.cfg.RunID, err)
	}
	return nil
}

// begin admits one more flow unless closing or at MaxFlows.
func (n *Network) begin() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing || n.active >= n.cfg.MaxFlows {
		return false
	}
	n.active++
	n.wg.Add(1)
	return true
}

func (n *Network) end() {
	n.mu.Lock()
	n.active--
	n.mu.Unlock()
	n.wg.Done()
}

// track registers c so Close can end it; false (and c closed) when the
// Network is already closing.
func (n *Network) track(c io.Closer) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		c.Close()
		return false
	}
	n.flows[c] = struct{}{}
	return true
}

func (n *Network) untrack(c io.Closer) {
	n.mu.Lock()
	delete(n.flows, c)
	n.mu.Unlock()
	c.Close()
}

// safely runs a Service call; a panic in it ends that flow, not the
// worker.
func (n *Network) safely(what string, fn func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			n.st.panics.Add(1)
			n.log.Error("sinkhole: service panicked", "call", what, "panic", r)
			ok = false
		}
	}()
	fn()
	return true
}

// parallel runs fns at once and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn() }()
	}
	wg.Wait()
	return errors.Join(errs...)
}
