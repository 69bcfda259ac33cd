// Package storetest is the conformance suite every store backend passes:
// round trips, overwrites, missing objects, key validation, atomic puts
// under failing writers and concurrent readers, paged listing in key
// order, and the typed helpers (compressed runs, JSON, verdicts) on top.
package storetest
