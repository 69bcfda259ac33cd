package sinkhole_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/sandscan/sandscan/sandbox/sinkhole"
)

// banner is a Service that greets every TCP connection and answers no
// datagram.
type banner struct{}

func (banner) HandleTCP(ctx context.Context, c net.Conn, orig netip.AddrPort) {
	fmt.Fprintf(c, "hello from %s\r\n", orig)
}

func (banner) HandleUDP(ctx context.Context, payload []byte, src, dst netip.AddrPort) []byte {
	return nil
}

// One run's network: give NetNSPath to the OCI spec as the network
// namespace's path, run runsc with --network=sandbox, point the
// container's resolv.conf at the gateway, and Close when the run ends.
func Example() {
	ctx := context.Background()
	pcap := filepath.Join(os.TempDir(), "example-run.pcap") // the run's artifact
	defer os.Remove(pcap)
	n, err := sinkhole.New(ctx, sinkhole.Config{RunID: "example-run", Service: banner{}, PCAPPath: pcap})
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()
	fmt.Println("netns:", n.NetNSPath())
	fmt.Println("sandbox:", n.Config().Address, "via", n.Config().Gateway)
	// Output:
	// netns: /var/run/netns/sandscan-net-example-run
	// sandbox: 10.13.0.2/24 via 10.13.0.1
}
