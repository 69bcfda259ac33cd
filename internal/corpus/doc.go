// Package corpus makes the labelled runs the models learn from: several
// hundred parameterised variants of malicious behaviours (miners, reverse
// and bind shells, droppers, credential theft, container escapes,
// reconnaissance, persistence, destruction and ransom) and of benign
// workloads (web servers, databases, builds, package queries, backups,
// cron, scripts), each a small image on a busybox or Debian bookworm base
// with the behave multi-tool, detonated in the real sandbox. A corpus
// directory holds <label>/<name>.json.gz runs and labels.json, the
// manifest naming each run's label and variant family. Runs are stored
// rather than feature vectors so that a change of the analyzer's features
// needs only `sandscan train`, not a new detonation. Every entrypoint first
// checks that it runs inside gVisor, and every remote end is a reserved
// name or a documentation address.
package corpus
