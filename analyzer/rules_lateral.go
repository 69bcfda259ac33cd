package analyzer

import (
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func lateralRules() []Rule {
	return []Rule{
		{
			ID: "lateral.ssh", Title: "SSH to another host",
			Description: "ssh, sshpass, scp, sftp or rsync over ssh went to a host other than loopback, or the sinkhole saw an SSH client: moving to other machines with stolen keys or passwords.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1021.004"},
			Match: matchSSHOut,
		},
		{
			ID: "lateral.tool-transfer", Title: "Files pushed to another host",
			Description: "scp, rsync or sftp copied local files to a remote host.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1570"},
			Match: matchToolTransfer,
		},
	}
}

// remoteSpec returns the host of a user@host[:path] operand.
func remoteSpec(op string) (string, bool) {
	if strings.Contains(op, "://") {
		h, ok := urlHost(op)
		return h, ok
	}
	host := op
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	} else if !strings.Contains(host, "@") {
		return "", false
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if host == "" || strings.Contains(host, "/") {
		return "", false
	}
	return host, true
}

func matchSSHOut(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("ssh", "sshpass", "scp", "sftp", "rsync", "autossh")) {
		if infoOnly(e.Args) || installing(x, e.PID) {
			continue
		}
		fam := family(e.Name)
		ops := operandsSkippingValues(e.Args, set("-p", "-P", "-i", "-o", "-l", "-F", "-e", "-L", "-R", "-D", "-J", "-c", "-b", "-S", "-W", "-f"))
		for _, op := range ops {
			h, ok := remoteSpec(op)
			if fam == "ssh" || fam == "autossh" {
				h, ok = op, true
				if i := strings.LastIndexByte(h, '@'); i >= 0 {
					h = h[i+1:]
				}
			}
			if ok && !loopbackHost(h) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
			if fam == "ssh" || fam == "autossh" {
				break // the rest is the remote command
			}
		}
	}
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			if c.App == "ssh" && !isLoopback(c.DstIP) {
				hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: "SSH session to " + c.DstIP})
			}
		}
	}
	return hits
}

func matchToolTransfer(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("scp", "rsync", "sftp", "pscp")) {
		if infoOnly(e.Args) || installing(x, e.PID) {
			continue
		}
		ops := operandsSkippingValues(e.Args, set("-P", "-i", "-o", "-e", "-F", "-c", "-l", "-J"))
		if len(ops) < 2 {
			continue
		}
		if h, ok := remoteSpec(ops[len(ops)-1]); ok && !loopbackHost(h) {
			if _, srcRemote := remoteSpec(ops[0]); !srcRemote {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
			}
		}
	}
	return hits
}
