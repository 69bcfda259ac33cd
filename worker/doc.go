// Package worker runs analyses: it takes jobs from the queue, gets each
// image into the sandbox (from the store, or from a registry, keeping a
// copy of the archive in the store), detonates it, analyses the run and
// stores the run, the report in every format, the output, the filesystem
// diff and the dropped files under the job's analysis id, then the
// verdict, and acks the job with an analysis.Result. A reclassify job
// re-reads a stored run and only analyses it again. Rescan queues one job
// per stored image (or per filtered image) and RescanProgress counts how
// far they are.
//
// OpenBackends opens the queue and store a BackendConfig names (embedded
// bbolt queue and filesystem store under the state dir by default; NATS
// JetStream and S3 otherwise), for `sandscan worker`, `sandscan serve` and
// `sandscan rescan` alike:
//
//	cfg, _ := worker.BackendConfigFromEnv(stateDir, nil)
//	cfg.RegisterFlags(fs) // --queue, --nats-url, --store, --s3-*
//	q, st, closeFn, err := worker.OpenBackends(ctx, cfg)
package worker
