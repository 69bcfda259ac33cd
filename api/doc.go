// Package api is Sandscan's HTTP service: submissions of images by
// reference or uploaded archive, the status, reports and artifacts of
// analyses, verdicts per image digest, batch rescans, registry webhooks
// (CNCF Distribution, Harbor, Docker Hub), the OpenAPI document, health and
// Prometheus metrics. It only queues jobs (queue) and reads what workers
// wrote (store); it never runs an image. Every error leaves through one
// function (writeError) as application/problem+json, and every route but
// the health checks and metrics needs a bearer token.
package api
