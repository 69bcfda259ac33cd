package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/sandscan/sandscan/analysis"
	"github.com/sandscan/sandscan/queue"
)

// readHookBody reads a webhook's body, refusing a media type that is not
// JSON; registries send small bodies, so MaxBody bounds them.
func (s *Server) readHookBody(w http.ResponseWriter, r *http.Request, accept ...string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
		for _, a := range accept {
			ok = ok || mt == a
		}
		if !ok {
			return nil, fmt.Errorf("%w: %.64q", errUnsupported, ct)
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// hookPushes queues an analysis of each push and answers the registry:
// 202 when something new was queued, 200 when every push was known.
func (s *Server) hookPushes(w http.ResponseWriter, r *http.Request, hook string, pushes []Push, ignored int) error {
	s.metrics.hooks.WithLabelValues(hook, "ignored").Add(float64(ignored))
	s.metrics.hooks.WithLabelValues(hook, "push").Add(float64(len(pushes)))
	out := HookResult{Analyses: []Analysis{}, Ignored: ignored}
	if len(pushes) == 0 {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	release, err := s.admit(r.Context(), queue.ReasonWebhook)
	if err != nil {
		return err
	}
	defer release()
	anyCreated := false
	for _, p := range pushes {
		req := analysis.Request{Source: analysis.FromRegistry, Ref: p.Ref(), Repository: p.Repo()}
		a, created, err := s.submit(r.Context(), submission{reason: queue.ReasonWebhook, digest: p.Digest, image: p.Ref(), req: req})
		if err != nil {
			// The registry retries the whole delivery; pushes queued
			// already dedupe then.
			return err
		}
		anyCreated = anyCreated || created
		out.Analyses = append(out.Analyses, a)
	}
	status := http.StatusOK
	if anyCreated {
		status = http.StatusAccepted
	}
	writeJSON(w, status, out)
	return nil
}

// hookDistribution is POST /v1/hooks/distribution, the notifications of
// a CNCF Distribution registry (Docker's registry, Harbor's core, ...).
func (s *Server) hookDistribution(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readHookBody(w, r, DistributionEventsV1, DistributionEventsV2)
	if err != nil {
		return err
	}
	pushes, ignored, err := DecodeDistribution(body)
	if err != nil {
		s.metrics.hooks.WithLabelValues("distribution", "malformed").Inc()
		return err
	}
	return s.hookPushes(w, r, "distribution", pushes, ignored)
}

// hookHarbor is POST /v1/hooks/harbor.
func (s *Server) hookHarbor(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readHookBody(w, r, "application/cloudevents+json")
	if err != nil {
		return err
	}
	pushes, ignored, err := DecodeHarbor(body)
	if err != nil {
		s.metrics.hooks.WithLabelValues("harbor", "malformed").Inc()
		return err
	}
	return s.hookPushes(w, r, "harbor", pushes, ignored)
}

// hookDockerHub is POST /v1/hooks/dockerhub/{secret}. Docker Hub names a
// tag only, so the tag is resolved to a digest here, when the image is
// pulled for the analysis's record; the job then pulls that digest.
func (s *Server) hookDockerHub(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readHookBody(w, r)
	if err != nil {
		return err
	}
	p, err := DecodeDockerHub(body, s.cfg.Hooks.DockerHubRegistry)
	if err != nil {
		s.metrics.hooks.WithLabelValues("dockerhub", "malformed").Inc()
		return err
	}
	res, err := s.resolver.Resolve(r.Context(), p.Ref(), nil)
	if err != nil {
		return err
	}
	p.Digest = res.Digest
	return s.hookPushes(w, r, "dockerhub", []Push{p}, 0)
}
