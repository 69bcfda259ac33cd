package analyzer

import (
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestLateralRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "sshpass ssh to a host", rule: "lateral.ssh", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/sshpass", "sshpass", "-p", "hunter2", "ssh", "admin@10.0.0.5").done()},
		{name: "sinkhole saw an SSH client", rule: "lateral.ssh", want: true,
			run: sh("x").conn(trace.Conn{Proto: "tcp", DstIP: "10.0.0.5", DstPort: 22, App: "ssh"}).done()},
		{name: "benign: ssh-keygen", rule: "lateral.ssh", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/ssh-keygen", "ssh-keygen", "-A").spawn(1, 11, "/usr/bin/ssh", "ssh", "-V").done()},
		{name: "scp push", rule: "lateral.tool-transfer", want: true,
			run: sh("x").spawn(1, 10, "/usr/bin/scp", "scp", "/tmp/tool", "root@10.0.0.5:/tmp/").done()},
		{name: "benign: scp pull is ingress, not lateral", rule: "lateral.tool-transfer", want: false,
			run: sh("x").spawn(1, 10, "/usr/bin/scp", "scp", "root@10.0.0.5:/tmp/tool", "/tmp/").done()},
	})
}
