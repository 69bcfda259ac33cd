// Package analysis is the contract between who asks for an analysis (the
// API, registry webhooks, rescans) and who does it (the workers): the
// Request a queued job carries and the Result its worker acks with.
//
// It imports only the standard library and queue, so the API does not
// depend on the worker or the sandbox, nor the worker on the API.
package analysis
