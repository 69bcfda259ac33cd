package sinkhole

import (
	"encoding/binary"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzFrames writes arbitrary Ethernet frames into a running Network from
// the sandbox's side, as a hostile sandbox could, and checks that the
// sinkhole still serves a connection afterwards. A panic anywhere in the
// stack or the handlers fails the fuzz run.
func FuzzFrames(f *testing.F) {
	// Fuzz workers are killed, not closed: "fuzz-" marks what they leave
	// for Reap.
	n, _ := newTestNetwork(f, func(c *Config) { c.RunID = randomID("fuzz-"); c.PCAPPath = "" })
	var fd, ifindex int
	var mac net.HardwareAddr
	err := inNetNS(n.NetNSPath(), func() error {
		ifc, err := net.InterfaceByName(sandboxIf)
		if err != nil {
			return err
		}
		ifindex, mac = ifc.Index, ifc.HardwareAddr
		fd, err = openPacketSocket(ifindex, true)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { unix.Close(fd) })

	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	src := []byte{0x02, 0, 0, 0, 0, 0x02}
	eth := func(typ uint16, payload ...byte) []byte {
		b := append(append(append([]byte{}, bcast...), src...), byte(typ>>8), byte(typ))
		return append(b, payload...)
	}
	ipv4 := func(proto byte, dst [4]byte, payload ...byte) []byte {
		h := make([]byte, 20)
		h[0], h[8], h[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
		copy(h[12:], []byte{10, 13, 0, 2})
		copy(h[16:], dst[:])
		binary.BigEndian.PutUint16(h[10:], inetChecksum(h))
		return eth(0x0800, append(h, payload...)...)
	}
	echo := []byte{8, 0, 0, 0, 0, 1, 0, 1, 'x'}
	binary.BigEndian.PutUint16(echo[2:], inetChecksum(echo))
	syn := make([]byte, 20)
	binary.BigEndian.PutUint16(syn[0:], 40000)
	binary.BigEndian.PutUint16(syn[2:], 80)
	syn[12], syn[13] = 5<<4, 0x02
	for _, seed := range [][]byte{
		ipv4(1, [4]byte{198, 51, 100, 1}, echo...),
		ipv4(1, [4]byte{198, 51, 100, 1}, echo[:4]...),
		ipv4(1, [4]byte{10, 13, 0, 1}, echo...),
		ipv4(6, [4]byte{203, 0, 113, 7}, syn...),
		ipv4(17, [4]byte{8, 8, 8, 8}, 0, 53, 0, 53, 0, 9, 0, 0, 'q'),
		ipv4(17, [4]byte{255, 255, 255, 255}, 0, 68, 0, 67, 0, 8, 0, 0),
		eth(0x0806, 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 13, 0, 2, 0, 0, 0, 0, 0, 0, 10, 13, 0, 1),
		eth(0x86dd, 0x60, 0, 0, 0, 0, 0, 58, 255),
		eth(0x0800),
		{},
	} {
		f.Add(seed)
	}
	// heal re-announces the sandbox's real MAC for its address, as its
	// kernel does from time to time: a fuzzed ARP packet may have told the
	// stack another, and a sandbox that poisons its own gateway's cache
	// only cuts itself off.
	heal := eth(0x0806, append(append([]byte{0, 1, 8, 0, 6, 4, 0, 1}, mac...), 10, 13, 0, 2, 0, 0, 0, 0, 0, 0, 10, 13, 0, 1)...)
	copy(heal[6:], mac)
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > 1514 {
			frame = frame[:1514]
		}
		// The kernel refuses frames shorter than a link header.
		if len(frame) >= 14 {
			if err := unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6}); err != nil {
				t.Fatalf("send frame: %v", err)
			}
		}
		if err := unix.Sendto(fd, heal, 0, &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6}); err != nil {
			t.Fatal(err)
		}
		if err := roundTrip(n.NetNSPath(), "tcp", "203.0.113.77:1234", []byte("alive"), []byte("alive")); err != nil {
			t.Fatalf("sinkhole stopped serving after frame %x: %v", frame, err)
		}
	})
}
