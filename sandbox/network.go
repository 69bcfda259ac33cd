package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandscan/sandscan/sandbox/sinkhole"
	"github.com/sandscan/sandscan/sandbox/sinkhole/service"
	"github.com/sandscan/sandscan/trace"
)

// Network modes.
const (
	// NetworkSinkhole gives the sandbox its own network namespace joined by
	// a veth to Sandscan's userspace sinkhole, which answers every DNS
	// query and accepts every connection itself: nothing is forwarded.
	NetworkSinkhole = "sinkhole"
	// NetworkNone leaves the sandbox loopback only.
	NetworkNone = "none"
)

// NetworkModes lists the modes in the order of preference.
var NetworkModes = []string{NetworkSinkhole, NetworkNone}

// pcapCap bounds the capture kept as an artifact of a run.
const pcapCap = 8 << 20

// WithNetwork picks the network mode of a run.
func WithNetwork(mode string) RunOption { return func(c *runConfig) { c.network = mode } }

func checkNetwork(mode string) error {
	for _, m := range NetworkModes {
		if m == mode {
			return nil
		}
	}
	return fmt.Errorf("unknown network mode %q (have %v)", mode, NetworkModes)
}

// runNetwork is the sinkhole of one run.
type runNetwork struct {
	net  *sinkhole.Network
	svc  *service.Service
	pcap string
	// capture is read from pcap when the sinkhole closes, before the run
	// directory holding the file goes.
	capture    *trace.Artifact
	captureErr error
}

// startNetwork makes the run's network namespace and sinkhole.
func (r *runner) startNetwork(ctx context.Context) error {
	if r.cfg.network != NetworkSinkhole {
		return nil
	}
	svc, err := service.New(service.Config{Addr4: sinkhole.DefaultGateway, Addr6: sinkhole.DefaultGateway6, Logger: r.s.log})
	if err != nil {
		return err
	}
	pcap := filepath.Join(r.dir, "net.pcap")
	n, err := sinkhole.New(ctx, sinkhole.Config{RunID: r.id, Service: svc, PCAPPath: pcap, PCAPLimit: pcapCap, Logger: r.s.log})
	if err != nil {
		return err
	}
	r.net = &runNetwork{net: n, svc: svc, pcap: pcap}
	r.undo.add("network", func(context.Context) error {
		err := n.Close()
		a, aerr := readArtifact("network.pcap", pcap, pcapCap)
		r.net.capture, r.net.captureErr = &a, aerr
		return err
	})
	return nil
}

// networkSpec puts the container in the sinkhole's namespace; runsc's
// --network=sandbox then uses that namespace's interface.
func (r *runner) networkSpec() []specs.LinuxNamespace {
	if r.net == nil {
		return nil
	}
	return []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: r.net.net.NetNSPath()}}
}

func (r *runner) runscNetworkFlag() string {
	if r.net == nil {
		return "--network=none"
	}
	return "--network=sandbox"
}

// nameserver is where the sandbox's resolver sends queries. Under the
// sinkhole any address on port 53 gets an answer; the gateway is the
// natural one.
func (r *runner) nameserver() string {
	if r.net == nil {
		return "127.0.0.1"
	}
	return sinkhole.DefaultGateway.String()
}

// recordNetwork fills the Run's network section once the sandbox is gone:
// what the sinkhole saw, tied to the processes that connected, and the
// capture as an artifact.
func (r *runner) recordNetwork(run *trace.Run) {
	if r.net == nil {
		return
	}
	nw := r.net.svc.Network()
	nw.Mode = NetworkSinkhole
	attribute(nw, run.Events)
	switch err := r.net.captureErr; {
	case err == nil && r.net.capture != nil:
		run.Artifacts = append(run.Artifacts, *r.net.capture)
		nw.PCAP = r.net.capture.Name
	case err != nil && !os.IsNotExist(err):
		run.Errors = append(run.Errors, "pcap: "+err.Error())
	}
	run.Network = nw
}

// attribute ties each connection to the process whose connect reached it:
// the first unclaimed connect (or UDP send) to the same address and port.
func attribute(nw *trace.Network, events []trace.Event) {
	used := make([]bool, len(events))
	for ci := range nw.Conns {
		c := &nw.Conns[ci]
		for i := range events {
			e := &events[i]
			if used[i] || e.Kind != trace.KindConnect || e.Addr == nil || e.Addr.IP != c.DstIP || e.Addr.Port != c.DstPort {
				continue
			}
			used[i] = true
			c.PID, c.Comm = e.PID, e.Comm
			break
		}
	}
}

func readArtifact(name, path string, max int64) (trace.Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return trace.Artifact{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return trace.Artifact{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return trace.Artifact{}, err
	}
	sum := sha256.Sum256(data)
	return trace.Artifact{
		Name: name, Path: path, Size: st.Size(), SHA256: hex.EncodeToString(sum[:]),
		Data: data, Truncated: st.Size() > int64(len(data)),
	}, nil
}
