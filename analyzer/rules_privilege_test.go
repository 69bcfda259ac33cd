package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestPrivilegeRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "chmod u+xs", rule: "privesc.setuid", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/chmod", "chmod", "u+xs", "/tmp/evil").syscall(10, "fchmodat", 0, 0xffffff9c, 0x7f00, 04744).done()},
		{name: "setuid file in the diff", rule: "privesc.setuid", want: true,
			run: sh("x").file("/tmp/evil", trace.FileCreated, 04755).done()},
		{name: "setcap cap_setuid", rule: "privesc.setuid", want: true,
			run: sh("x").spawn(1, 10, "/usr/sbin/setcap", "setcap", "cap_setuid=ep", "/tmp/evil").done()},
		{name: "benign: dpkg installs passwd setuid", rule: "privesc.setuid", want: false,
			run: sh("apt-get install passwd").spawn(1, 10, "/usr/bin/dpkg", "dpkg", "-i", "passwd.deb").syscall(10, "fchmod", 0, 3, 04755).file("/usr/bin/passwd", trace.FileModified, 04755).done()},
		{name: "benign: daemon drops privileges to www-data", rule: "privesc.setuid", want: false,
			run: sh("nginx").spawn(1, 10, "/usr/sbin/nginx", "nginx").add2(func(b *rb) {
				b.add(trace.Event{Kind: trace.KindSetID, PID: 10, Syscall: "setgid", IDs: []uint32{33}})
				b.add(trace.Event{Kind: trace.KindSetID, PID: 10, Syscall: "setuid", IDs: []uint32{33}})
			}).syscall(10, "chmod", 0, 0, 0700).done()},

		{name: "sed -i on sudoers", rule: "privesc.sudoers", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/sudo", "sudo", "sed", "-i", "s/env_reset.*$/env_reset,timestamp_timeout=-1/", "/etc/sudoers").
				spawn(10, 11, "/usr/bin/sed", "sed", "-i", "s/env_reset.*$/env_reset,timestamp_timeout=-1/", "/etc/sudoers").open(11, "/etc/sedX1", wr).done()},
		{name: "sudoers.d drop-in", rule: "privesc.sudoers", want: true,
			run: sh("echo 'app ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/app").open(1, "/etc/sudoers.d/app", wr).done()},
		{name: "benign: sudo reads its policy", rule: "privesc.sudoers", want: false,
			run: sh("sudo id").spawn(1, 10, "/usr/bin/sudo", "sudo", "id").open(10, "/etc/sudoers", rdonly).open(10, "/etc/sudoers.d/README", rdonly).done()},

		{name: "mount of a host disk", rule: "privesc.escape", want: true, tech: "T1611",
			run: sh("x").spawn(1, 10, "/usr/bin/mount", "mount", "/dev/dm-0", "/mnt/host").done()},
		{name: "docker.sock connect", rule: "privesc.escape", want: true, tech: "T1609",
			run: newRun("/escape").connect(1, "/var/run/docker.sock", 0, 2).done()},
		{name: "core_pattern and release_agent writes", rule: "privesc.escape", want: true,
			run: newRun("/escape").openFail(1, "/proc/sys/kernel/core_pattern", wr, 13).open(1, "/sys/fs/cgroup/x/release_agent", wr).done()},
		{name: "mount(2) refused", rule: "privesc.escape", want: true,
			run: newRun("/escape").syscall(1, "mount", 1, 0, 0, 0, 0, 0).done()},
		{name: "benign: reading /proc/1/cgroup", rule: "privesc.escape", want: false,
			run: newRun("/app").open(1, "/proc/1/cgroup", rdonly).done()},

		{name: "unshare user+mount namespaces", rule: "privesc.namespace-unshare", want: true,
			run: newRun("/escape").syscall(1, "unshare", 1, cloneNewNS|cloneNewUser).done()},
		{name: "benign: unshare of the uts namespace only", rule: "privesc.namespace-unshare", want: false,
			run: newRun("/app").syscall(1, "unshare", 0, 0x04000000).done()},

		{name: "ptrace attach to pid 1", rule: "privesc.ptrace", want: true,
			run: newRun("/escape").syscall(1, "ptrace", 1, 16, 1).done()},
		{name: "benign: PTRACE_TRACEME", rule: "privesc.ptrace", want: false,
			run: newRun("/app").syscall(1, "ptrace", 0, 0).done()},

		{name: "write to another process's mem", rule: "privesc.proc-mem-write", want: true,
			run: sh("x").open(1, "/proc/42/mem", oRdwr).done()},
		{name: "benign: own memory", rule: "privesc.proc-mem-write", want: false,
			run: sh("x").open(1, "/proc/self/mem", oRdwr).done()},
	})
}
