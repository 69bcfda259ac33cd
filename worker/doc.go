// Package worker runs analyses: Run takes jobs from the queue, gets each
// image into the sandbox (from the store, or from a registry, keeping a
// copy of the pulled archive in the store so a rescan needs no registry),
// detonates it, analyses the run and stores, under the job's id (the
// analysis id): run.json.gz, stdout, stderr, fsdiff.tar, files/<path> for
// each dropped file, report.sarif, navigator.json and report.json LAST,
// so an analysis whose report is visible is complete. Then it files the
// verdict (latest and history) and acks the job with an analysis.Result.
// A reclassify job re-reads a stored run, copies it and its evidence to
// the new analysis, and only analyses it again: no sandbox.
//
// Failures: a request, archive or image no retry can fix (malformed, for
// another platform, missing from the store or the registry, refused
// credentials) fails the job at once (queue.Permanent); a sandbox, store
// or unreachable registry failure is nacked and delivered again until the
// queue's MaxDeliver, then dead with its error. A store outage is retried
// by the store while the heartbeat keeps extending the lease.
//
// fsdiff.tar is the run's filesystem diff in the OCI layer convention:
// created and modified files, directories and symlinks with their mode
// and owners, deleted paths as ".wh." whiteouts. A file's content is the
// copy the run kept, possibly cut at the artifact cap; PAX records
// SANDSCAN.op, SANDSCAN.size, SANDSCAN.sha256, SANDSCAN.truncated and
// SANDSCAN.content=absent (no copy kept) say what the entry holds.
//
// Besides store's layout the worker writes images/sha256/<hex>.json
// (ImageMeta: the archive's format, reference and repository, read by
// rescans) and rescans/<id>.json (a rescan's record). Rescan queues one
// job per stored image a RescanFilter picks (repository prefix, latest
// verdict, digests, verdict age) and RescanProgress counts their states.
//
// OpenBackends opens the queue and store a BackendConfig names (embedded
// bbolt queue and filesystem store under the state dir by default; NATS
// JetStream and S3 otherwise), for `sandscan worker`, `sandscan serve` and
// `sandscan rescan` alike:
//
//	cfg, _ := worker.BackendConfigFromEnv(stateDir, nil)
//	cfg.RegisterFlags(fs) // --queue, --nats-url, --store, --s3-*
//	q, st, closeFn, err := worker.OpenBackends(ctx, cfg)
//
// With Config.Registry set, the workers export Prometheus metrics:
// sandscan_analyses_total{verdict,mode}, sandscan_analysis_duration_seconds{mode},
// sandscan_sandbox_failures_total, sandscan_job_failures_total{kind} and
// sandscan_jobs_running.
package worker
