// Package testenv gives tests in other packages the project's runtime:
// Setup runs setup.Ensure once per test binary (honouring
// SANDSCAN_STATE_DIR and SANDSCAN_TOOLS_DIR) and fails the test, never
// skips it, when the runtime cannot be had.
package testenv
