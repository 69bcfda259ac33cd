package trace

import (
	"testing"
	"time"
)

func TestProgramName(t *testing.T) {
	tests := []struct {
		bin  string
		argv []string
		want string
	}{
		{"/usr/bin/curl", []string{"curl", "-s"}, "curl"},
		{"/bin/busybox", []string{"wget", "-q"}, "wget"},
		{"/proc/self/exe", []string{"/bin/cat", "/etc/passwd"}, "cat"},
		{"/usr/bin/python3.11", []string{"python3"}, "python3.11"},
		{"/bin/busybox", nil, "busybox"},
		{"", []string{"sh"}, "sh"},
		{"/usr/bin/pgrep", []string{"pkill", "cron"}, "pkill"},
		{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-F"}, "iptables"},
		{"/bin/busybox", []string{"busybox", "wget", "u"}, "wget"},
		{"/bin/bash", []string{"-bash"}, "bash"},
		{"/usr/bin/python3.11", []string{"nginx: worker"}, "python3.11"},
	}
	for _, tt := range tests {
		if got := ProgramName(tt.bin, tt.argv); got != tt.want {
			t.Errorf("ProgramName(%q, %q) = %q, want %q", tt.bin, tt.argv, got, tt.want)
		}
	}
}

func TestBuildProcesses(t *testing.T) {
	t0 := time.Unix(100, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	events := []Event{
		{Kind: KindStart, Time: at(0), PID: 1, TID: 1, Comm: "sh", Argv: []string{"/bin/sh", "-c", "x"}},
		{Kind: KindClone, Time: at(1), PID: 1, TID: 1, Child: 2},
		{Kind: KindClone, Time: at(1), PID: 1, TID: 1, Child: 9, Thread: true},
		{Kind: KindExec, Time: at(2), PID: 2, TID: 2, Comm: "sh", Path: "/bin/busybox", Argv: []string{"wget", "u"}},
		{Kind: KindExit, Time: at(3), PID: 2, TID: 2, Ret: 1},
		{Kind: KindExit, Time: at(4), PID: 1, TID: 9},
	}
	procs := BuildProcesses(events)
	if len(procs) != 2 {
		t.Fatalf("got %d processes: %+v", len(procs), procs)
	}
	sh, wget := procs[0], procs[1]
	if sh.PID != 1 || sh.Exited || sh.Comm != "sh" {
		t.Errorf("sh = %+v (a thread's exit must not end the process)", sh)
	}
	if wget.PID != 2 || wget.PPID != 1 || wget.Comm != "wget" || !wget.Exited || wget.ExitStatus != 1 ||
		wget.Exe != "/bin/busybox" || len(wget.Execs) != 1 {
		t.Errorf("wget = %+v", wget)
	}
	if kids := Children(procs)[1]; len(kids) != 1 || kids[0] != 2 {
		t.Errorf("children of 1 = %v", kids)
	}
}
