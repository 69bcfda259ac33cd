// Package sandbox detonates a container image: it imports the image into
// the project's containerd, runs its entrypoint under gVisor (runsc, driven
// through containerd's runc v2 shim) with resource limits and no network
// but a sinkhole, streams gVisor's trace points into a trace sink, and
// returns a trace.Run: events, process tree, output, filesystem diff, exit
// status and resource use.
//
// Nothing of the image ever runs outside gVisor. Every container, task,
// snapshot, lease, FIFO and per-run file a run creates is removed when the
// run ends, on errors and cancellation too.
package sandbox
