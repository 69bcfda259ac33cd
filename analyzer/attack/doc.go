// Package attack is the small, embedded slice of MITRE ATT&CK Enterprise
// that Sandscan's rules use: technique ids, names and tactics (v18.1), the
// v19 id where v19 renumbered a technique, and the tactics' kill-chain order.
// The product never reads ATT&CK's own files at run time; the tests check
// this table against them.
package attack
