// Package trace holds what one detonation of an image recorded: the Run and
// its Events, the process tree, file changes and network records.
//
// It is plain data with a JSON encoding and no I/O, and it imports only the
// standard library, so that a stored Run can be read and reclassified on any
// machine, with or without containerd and gVisor.
package trace
