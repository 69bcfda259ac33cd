package service

import (
	"github.com/sandscan/sandscan/trace"
)

// Service answers one sandbox's traffic and records it. Its handlers are
// safe to call from many goroutines at once. Give each run its own
// Service: the name pool and the records belong to one run.
type Service struct {
	cfg Config
	rec *Recorder
	sem chan struct{} // one token per running TCP handler
}

// New returns a Service for cfg (unset fields take their defaults).
func New(cfg Config) (*Service, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Service{cfg: c, rec: newRecorder(c), sem: make(chan struct{}, c.MaxHandlers)}, nil
}

// Recorder is where the Service records what it saw.
func (s *Service) Recorder() *Recorder { return s.rec }

// Network is s.Recorder().Network().
func (s *Service) Network() *trace.Network { return s.rec.Network() }

// LookupHost is s.Recorder().LookupHost(ip).
func (s *Service) LookupHost(ip string) string { return s.rec.LookupHost(ip) }
