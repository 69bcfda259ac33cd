package sandbox

import (
	"context"
	"sync"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/typeurl/v2"

	"github.com/sandscan/sandscan/trace"
)

// statsSampler keeps the largest resource figures seen in the sandbox's
// cgroup. It samples because the cgroup is gone once the sandbox exits.
type statsSampler struct {
	mu       sync.Mutex
	cpuNanos uint64
	memPeak  uint64
	pidsPeak uint64
	oom      bool
	samples  int
}

func (s *statsSampler) sample(ctx context.Context, task containerd.Task) {
	m, err := task.Metrics(ctx)
	if err != nil || m == nil || m.Data == nil {
		return
	}
	v, err := typeurl.UnmarshalAny(m.Data)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	switch st := v.(type) {
	case *cgroup1.Metrics:
		if st.CPU != nil && st.CPU.Usage != nil {
			s.cpuNanos = max(s.cpuNanos, st.CPU.Usage.Total)
		}
		if st.Memory != nil && st.Memory.Usage != nil {
			s.memPeak = max(s.memPeak, st.Memory.Usage.Max, st.Memory.Usage.Usage)
			s.oom = s.oom || st.Memory.Usage.Failcnt > 0
		}
		if st.Pids != nil {
			s.pidsPeak = max(s.pidsPeak, st.Pids.Current)
		}
	case *cgroup2.Metrics:
		if st.CPU != nil {
			s.cpuNanos = max(s.cpuNanos, st.CPU.UsageUsec*1000)
		}
		if st.Memory != nil {
			s.memPeak = max(s.memPeak, st.Memory.MaxUsage, st.Memory.Usage)
		}
		if st.MemoryEvents != nil {
			s.oom = s.oom || st.MemoryEvents.OomKill > 0
		}
		if st.Pids != nil {
			s.pidsPeak = max(s.pidsPeak, st.Pids.Current)
		}
	}
}

func (s *statsSampler) resources() trace.Resources {
	s.mu.Lock()
	defer s.mu.Unlock()
	return trace.Resources{
		CPUTime:    trace.Duration(s.cpuNanos),
		MemoryPeak: int64(s.memPeak),
		PidsPeak:   int64(s.pidsPeak),
	}
}
