package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// contextFields are the context fields asked for on every point, spelled as
// runsc accepts them (see `runsc trace metadata`; they differ from the
// protobuf field names).
var contextFields = []string{
	"time", "thread_id", "group_id", "parent_thread_group_id",
	"container_id", "credentials", "cwd", "process_name",
}

// PointConfig is one trace point of gVisor's trace session.
type PointConfig struct {
	Name           string   `json:"name"`
	OptionalFields []string `json:"optional_fields,omitempty"`
	ContextFields  []string `json:"context_fields,omitempty"`
}

type sinkConfig struct {
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
}

type sessionConfig struct {
	Name   string        `json:"name"`
	Points []PointConfig `json:"points"`
	Sinks  []sinkConfig  `json:"sinks"`
}

type podInitConfig struct {
	TraceSession sessionConfig `json:"trace_session"`
}

// Points returns the trace points Sandscan enables, each with every useful context field (time, ids, container, credentials, cwd, process name).
//
// Syscalls whose result matters and whose call may never return (a blocked
// connect, an execve that replaced the image) are traced at enter and at
// exit; the Sink pairs the two. Raw points are traced at enter too, because
// gVisor fills a raw exit's context with the fields of the raw enter point:
// without the enter point the exit would say nothing of who made the call.
func Points() []PointConfig {
	var pts []PointConfig
	add := func(name string, optional ...string) {
		pts = append(pts, PointConfig{Name: name, OptionalFields: optional, ContextFields: slices.Clone(contextFields)})
	}
	add("container/start", "env")
	add("sentry/execve", "binary_info", "binary_sha256")
	add("sentry/clone")
	add("sentry/task_exit")
	add("syscall/open/exit")
	add("syscall/openat/exit", "fd_path")
	add("syscall/creat/exit", "fd_path")
	add("syscall/execve/enter", "envv")
	add("syscall/execve/exit")
	add("syscall/execveat/enter", "fd_path", "envv")
	add("syscall/execveat/exit", "fd_path")
	add("syscall/connect/enter", "fd_path")
	add("syscall/connect/exit", "fd_path")
	add("syscall/socket/exit")
	add("syscall/bind/exit", "fd_path")
	add("syscall/accept/exit", "fd_path")
	add("syscall/accept4/exit", "fd_path")
	add("syscall/write/exit", "fd_path")
	add("syscall/writev/exit", "fd_path")
	add("syscall/chdir/exit")
	add("syscall/fchdir/exit", "fd_path")
	add("syscall/chroot/exit")
	for _, n := range []string{"setuid", "setgid", "setresuid", "setresgid", "clone", "fork", "vfork"} {
		add("syscall/" + n + "/exit")
	}
	for _, nr := range rawSyscalls {
		add(fmt.Sprintf("syscall/sysno/%d/enter", nr))
		add(fmt.Sprintf("syscall/sysno/%d/exit", nr))
	}
	return pts
}

// ConfigOption changes the trace session PodInitConfig writes.
type ConfigOption func(*configOptions)

type configOptions struct {
	retries           int
	backoff, backoffX time.Duration
}

// WithRetries sets how often gVisor retries a message the sink's socket
// has no room for, backing off from backoff up to maxBackoff, before it
// drops it. Retries slow the sandbox down instead of losing events.
func WithRetries(n int, backoff, maxBackoff time.Duration) ConfigOption {
	return func(o *configOptions) { o.retries, o.backoff, o.backoffX = n, backoff, maxBackoff }
}

// PodInitConfig returns the JSON for `runsc --pod-init-config=FILE` that
// enables Points and sends them to the sink listening on endpoint.
func PodInitConfig(endpoint string, opts ...ConfigOption) ([]byte, error) {
	if endpoint == "" {
		return nil, errors.New("pod init config: empty endpoint")
	}
	o := configOptions{retries: 3, backoff: 100 * time.Microsecond, backoffX: 5 * time.Millisecond}
	for _, opt := range opts {
		opt(&o)
	}
	if o.retries < 0 || o.backoff <= 0 || o.backoff > o.backoffX {
		return nil, fmt.Errorf("pod init config: bad retries %d or backoff %v..%v", o.retries, o.backoff, o.backoffX)
	}
	cfg := podInitConfig{TraceSession: sessionConfig{
		Name:   "Default",
		Points: Points(),
		Sinks: []sinkConfig{{Name: "remote", Config: map[string]any{
			"endpoint":    endpoint,
			"retries":     o.retries,
			"backoff":     o.backoff.String(),
			"backoff_max": o.backoffX.String(),
		}}},
	}}
	b, err := json.MarshalIndent(cfg, "", " ")
	if err != nil {
		return nil, fmt.Errorf("pod init config: %w", err)
	}
	return b, nil
}
