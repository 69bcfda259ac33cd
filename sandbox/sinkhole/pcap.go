package sinkhole

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// pcap file format (libpcap, microsecond timestamps, Ethernet frames).
const (
	pcapMagic        = 0xa1b2c3d4
	pcapHeaderLen    = 24
	pcapRecordLen    = 16
	linkTypeEthernet = 1
	pcapSnapLen      = 65535
)

// pcapWriter writes frames as pcap records, up to limit bytes of file;
// frames beyond it are counted and dropped.
type pcapWriter struct {
	w       *bufio.Writer
	limit   int64
	size    int64
	packets int64
	dropped int64
	err     error
}

func newPCAPWriter(w io.Writer, limit int64) (*pcapWriter, error) {
	var h [pcapHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], linkTypeEthernet)
	p := &pcapWriter{w: bufio.NewWriterSize(w, 64<<10), limit: limit, size: pcapHeaderLen}
	if _, err := p.w.Write(h[:]); err != nil {
		return nil, err
	}
	return p, nil
}

// write adds one frame. After a write error it only counts drops: the
// capture must never stop the network.
func (p *pcapWriter) write(ts time.Time, frame []byte) {
	n := min(len(frame), pcapSnapLen)
	if p.err != nil || p.size+pcapRecordLen+int64(n) > p.limit {
		p.dropped++
		return
	}
	var h [pcapRecordLen]byte
	us := ts.UnixMicro()
	binary.LittleEndian.PutUint32(h[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(h[8:], uint32(n))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	if _, err := p.w.Write(h[:]); err != nil {
		p.err, p.dropped = err, p.dropped+1
		return
	}
	if _, err := p.w.Write(frame[:n]); err != nil {
		p.err, p.dropped = err, p.dropped+1
		return
	}
	p.size += pcapRecordLen + int64(n)
	p.packets++
}

func (p *pcapWriter) flush() error {
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

// capture records every frame crossing the sinkhole's end of the veth,
// both ways, from a packet socket of its own. Capturing on the wire
// rather than inside the stack keeps ARP, neighbour discovery and frames
// the stack rejects.
type capture struct {
	sock *os.File
	file *os.File
	done chan struct{}

	mu sync.Mutex
	pw *pcapWriter
}

// startCapture takes ownership of the packet socket fd.
func startCapture(fd int, path string, limit int64) (*capture, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("capture socket: %w", err)
	}
	// Non-blocking, so reads go through the runtime poller and Close
	// interrupts a pending read.
	sock := os.NewFile(uintptr(fd), "sinkhole-capture")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("pcap: %w", err)
	}
	pw, err := newPCAPWriter(f, limit)
	if err != nil {
		sock.Close()
		f.Close()
		return nil, fmt.Errorf("pcap: %w", err)
	}
	c := &capture{sock: sock, file: f, pw: pw, done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *capture) loop() {
	defer close(c.done)
	buf := make([]byte, pcapSnapLen+1)
	for fails := 0; ; {
		n, err := c.sock.Read(buf)
		if err != nil {
			// A socket error such as ENETDOWN while the veth goes away is
			// reported once; a run of them means the socket is done.
			if fails++; errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) || fails > 100 {
				return
			}
			continue
		}
		fails = 0
		c.mu.Lock()
		c.pw.write(time.Now(), buf[:n])
		c.mu.Unlock()
	}
}

// counts returns frames written and dropped so far.
func (c *capture) counts() (packets, dropped int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pw.packets, c.pw.dropped
}

// close stops the capture and completes the file.
func (c *capture) close() error {
	err := c.sock.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(err, c.pw.flush(), c.file.Close())
}
