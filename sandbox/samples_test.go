package sandbox_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/trace"
)

// sampleImage returns the archive `make testdata` built for name.
func sampleImage(t testing.TB, name string) sandbox.Source {
	t.Helper()
	p := filepath.Join("..", "testdata", "images", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample image missing (run `make testdata`): %v", err)
	}
	kind := sandbox.OCIArchive
	if strings.HasSuffix(name, ".docker.tar") {
		kind = sandbox.DockerArchive
	}
	return sandbox.Source{Kind: kind, Path: p}
}

// Predicates over a Run's events and diff.
func hasEvent(run *trace.Run, pred func(e *trace.Event) bool) bool {
	return slices.ContainsFunc(run.Events, func(e trace.Event) bool { return pred(&e) })
}

func opened(path string) func(*trace.Event) bool {
	return func(e *trace.Event) bool { return e.Kind == trace.KindOpen && e.Path == path }
}

func connectedTo(port uint16) func(*trace.Event) bool {
	return func(e *trace.Event) bool { return e.Kind == trace.KindConnect && e.Addr != nil && e.Addr.Port == port }
}

func syscalled(name string) func(*trace.Event) bool {
	return func(e *trace.Event) bool { return e.Kind == trace.KindSyscall && e.Syscall == name }
}

func execed(prog string) func(*trace.Event) bool {
	return func(e *trace.Event) bool {
		return e.Kind == trace.KindExec && trace.ProgramName(e.Path, e.Argv) == prog
	}
}

func inDiff(run *trace.Run, path, op string) bool {
	return slices.ContainsFunc(run.Files, func(f trace.FileChange) bool { return f.Path == path && f.Op == op })
}

// TestSampleImages detonates each sample image and checks the events that
// define its behaviour are in its Run.
func TestSampleImages(t *testing.T) {
	sb := newSandbox(t)
	type check struct {
		what string
		ok   func(*trace.Run) bool
	}
	ev := func(what string, p func(*trace.Event) bool) check {
		return check{what, func(r *trace.Run) bool { return hasEvent(r, p) }}
	}
	tests := []struct {
		image  string
		exit   int
		checks []check
	}{
		{"miner.tar", 0, []check{
			ev("DNS attempt (connect to port 53)", connectedTo(53)),
			ev("connect to the pool on 3333", connectedTo(3333)),
			{"pool name resolved", func(r *trace.Run) bool {
				return r.Network != nil && slices.ContainsFunc(r.Network.DNS, func(q trace.DNSQuery) bool {
					return strings.HasSuffix(q.Name, ".example") && q.RCode == "NOERROR"
				})
			}},
			{"stratum login with a wallet, tied to the miner", func(r *trace.Run) bool {
				return r.Network != nil && slices.ContainsFunc(r.Network.Conns, func(c trace.Conn) bool {
					return c.App == "stratum" && c.Stratum != nil && c.Stratum.Wallet != "" && c.Host != "" && c.PID != 0
				})
			}},
			{"pcap kept", func(r *trace.Run) bool {
				return r.Network != nil && r.Network.PCAP != "" && slices.ContainsFunc(r.Artifacts, func(a trace.Artifact) bool {
					return a.Name == r.Network.PCAP && len(a.Data) > 24
				})
			}},
			{"CPU burnt", func(r *trace.Run) bool { return r.Resources.CPUTime.Std() > time.Second }},
		}},
		{"revshell.tar", 0, []check{
			ev("connect to 4444", connectedTo(4444)),
			ev("a shell runs", execed("sh")),
			{"the sinkhole got a shell", func(r *trace.Run) bool {
				return r.Network != nil && slices.ContainsFunc(r.Network.Conns, func(c trace.Conn) bool {
					return c.DstPort == 4444 && c.App == "shell" && c.Shell != nil && c.Shell.Received != ""
				})
			}},
		}},
		{"credtheft.tar", 0, []check{
			ev("open /etc/shadow", opened("/etc/shadow")),
			ev("open /root/.ssh/id_rsa", opened("/root/.ssh/id_rsa")),
			ev("open /root/.aws/credentials", opened("/root/.aws/credentials")),
			ev("tries to send out (connect to 80)", connectedTo(80)),
			{"archive in the diff", func(r *trace.Run) bool {
				return slices.ContainsFunc(r.Files, func(f trace.FileChange) bool {
					return strings.HasPrefix(f.Path, "/tmp/") && strings.HasSuffix(f.Path, ".tar.gz")
				})
			}},
		}},
		{"persistence.tar", 0, []check{
			{"cron file in the diff", func(r *trace.Run) bool { return inDiff(r, "/etc/cron.d/sysupdate", trace.FileCreated) }},
			{"authorized_keys in the diff", func(r *trace.Run) bool { return inDiff(r, "/root/.ssh/authorized_keys", trace.FileCreated) }},
			{"ld.so.preload in the diff", func(r *trace.Run) bool { return inDiff(r, "/etc/ld.so.preload", trace.FileCreated) }},
			{"rc file in the diff", func(r *trace.Run) bool { return inDiff(r, "/root/.bashrc", trace.FileCreated) }},
		}},
		{"dropper.tar", 0, []check{
			{"downloads its payload from the sinkhole", func(r *trace.Run) bool {
				return r.Network != nil && slices.ContainsFunc(r.Network.Conns, func(c trace.Conn) bool {
					return c.App == "http" && c.HTTP != nil && c.BytesOut > 0
				})
			}},
			ev("writes a file under /tmp", func(e *trace.Event) bool {
				return e.Kind == trace.KindOpen && strings.HasPrefix(e.Path, "/tmp/") && e.Flags&0o100 != 0
			}),
			ev("executes the file it wrote", func(e *trace.Event) bool {
				return e.Kind == trace.KindExec && strings.HasPrefix(e.Path, "/tmp/") && e.PID != 1
			}),
			ev("chmods it", syscalled("fchmodat")),
			ev("deletes it", syscalled("unlinkat")),
		}},
		{"escape.tar", 0, []check{
			ev("docker.sock", func(e *trace.Event) bool {
				return e.Kind == trace.KindConnect && e.Addr != nil && e.Addr.Path == "/var/run/docker.sock"
			}),
			ev("mount", syscalled("mount")),
			ev("unshare", syscalled("unshare")),
			ev("ptrace", syscalled("ptrace")),
			ev("init_module", syscalled("init_module")),
			ev("core_pattern", opened("/proc/sys/kernel/core_pattern")),
			ev("release_agent", func(e *trace.Event) bool {
				return e.Kind == trace.KindOpen && strings.HasSuffix(e.Path, "/release_agent")
			}),
		}},
		{"recon.tar", 0, []check{
			ev("/etc/passwd", opened("/etc/passwd")),
			ev("/proc/net/tcp", opened("/proc/net/tcp")),
			ev("probes local ports", func(e *trace.Event) bool {
				return e.Kind == trace.KindConnect && e.Addr != nil && e.Addr.IP == "127.0.0.1" && e.Addr.Port != 53
			}),
		}},
		{"busybox-script.tar", 0, []check{
			ev("wget", execed("wget")),
			ev("crontab", execed("crontab")),
			ev("cat /etc/shadow", opened("/etc/shadow")),
			{"crontab written", func(r *trace.Run) bool { return inDiff(r, "/var/spool/cron/crontabs/root", trace.FileCreated) }},
			{"file dropped in /var/tmp", func(r *trace.Run) bool { return inDiff(r, "/var/tmp/.sysupdate", trace.FileCreated) }},
		}},
		{"benign-web.tar", 0, []check{
			ev("binds", func(e *trace.Event) bool { return e.Kind == trace.KindBind && e.Errno == 0 }),
			ev("accepts", func(e *trace.Event) bool { return e.Kind == trace.KindAccept }),
		}},
		{"benign-batch.tar", 0, []check{
			{"result file in the diff", func(r *trace.Run) bool { return inDiff(r, "/var/tmp/result.txt", trace.FileCreated) }},
		}},
		{"benign-batch.docker.tar", 0, []check{
			{"docker archive runs too", func(r *trace.Run) bool { return inDiff(r, "/var/tmp/result.txt", trace.FileCreated) }},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			run := detonate(t, sb, sampleImage(t, tt.image))
			if run.Exit.TimedOut || run.Exit.Code != tt.exit {
				t.Errorf("exit = %+v, want code %d", run.Exit, tt.exit)
			}
			for _, c := range tt.checks {
				if !c.ok(run) {
					t.Errorf("missing: %s", c.what)
				}
			}
			if t.Failed() {
				t.Logf("run errors %q; %d events", run.Errors, len(run.Events))
				if run.Network != nil {
					for _, c := range run.Network.Conns {
						t.Logf("connection %s:%d app %q shell %+v first bytes %q", c.DstIP, c.DstPort, c.App, c.Shell, c.FirstData)
					}
				}
			}
			assertNoLeftovers(t, sb, run.ID)
		})
	}
}

// TestAbusiveImages checks that images that never end on their own are
// ended by the sandbox's limits, and that the host keeps nothing of them.
func TestAbusiveImages(t *testing.T) {
	sb := newSandbox(t)
	limits := sandbox.Limits{Timeout: 5 * time.Second, MemoryBytes: 256 << 20, Pids: 128, OutputBytes: 64 << 10}
	for _, name := range []string{"forkbomb.tar", "membomb.tar", "outputflood.tar", "sleeper.tar"} {
		t.Run(name, func(t *testing.T) {
			run := detonate(t, sb, sampleImage(t, name), sandbox.WithLimits(limits))
			if !run.Exit.TimedOut && !run.Exit.OOM && run.Exit.Code == 0 {
				t.Errorf("exit = %+v: ended by itself", run.Exit)
			}
			if run.Stdout.Size > 0 && int64(len(run.Stdout.Data)) > limits.OutputBytes {
				t.Errorf("kept %d bytes of stdout, cap %d", len(run.Stdout.Data), limits.OutputBytes)
			}
			switch name {
			case "outputflood.tar":
				if !run.Stdout.Truncated || run.Stdout.Size <= limits.OutputBytes {
					t.Errorf("stdout = %d bytes kept of %d, truncated %v", len(run.Stdout.Data), run.Stdout.Size, run.Stdout.Truncated)
				}
			case "forkbomb.tar":
				if len(run.Processes) < 20 {
					t.Errorf("forkbomb made %d processes", len(run.Processes))
				}
			case "membomb.tar":
				if run.Resources.MemoryPeak > 2*limits.MemoryBytes {
					t.Errorf("memory peak %d past twice the limit %d", run.Resources.MemoryPeak, limits.MemoryBytes)
				}
			}
			t.Logf("%s: exit %+v, %d events (%d dropped), %d processes, mem peak %d MiB", name, run.Exit,
				run.EventsTotal, run.Dropped, len(run.Processes), run.Resources.MemoryPeak>>20)
			assertNoLeftovers(t, sb, run.ID)
		})
	}
}
