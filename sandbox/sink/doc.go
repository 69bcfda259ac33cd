// Package sink is the receiving end of gVisor's runtime monitoring: it
// writes the trace session runsc is started with (PodInitConfig), listens on
// the Unix SOCK_SEQPACKET socket gVisor's "remote" sink connects to (Listen),
// decodes every message into a trace.Event (Decode), pairs syscall enter and
// exit points, and hands each container's events to the Recorder that
// watches it. Everything a sandbox sends is untrusted: sizes are bounded,
// malformed messages are counted and skipped, and nothing in them can make
// the sink panic or grow without limit.
package sink
