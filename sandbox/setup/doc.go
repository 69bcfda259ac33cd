// Package setup installs and starts the runtime Sandscan detonates images
// in: its own containerd (never the machine's), containerd's runc v2 shim,
// gVisor's runsc, a wrapper that lets the shim run runsc in place of runc,
// and the Debian packages the project needs. Ensure does all of it
// idempotently and returns an Env of paths and versions; it takes a few tens
// of milliseconds when everything is already in place, and runs no build
// then. Load returns the same Env without installing or starting anything,
// for code that runs after `sandscan setup`.
package setup
