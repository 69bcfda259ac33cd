package analyzer

import (
	"path"
	"sort"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// This file derives facts several rules and the features share: which
// shells talk to a socket, which files were written and then run, which
// were deleted after running, which chmods set setuid bits.

// socketShell is a shell whose stdin/stdout is (inferred to be) a socket.
type socketShell struct {
	Exec   *Exec
	Events []int // the connect, dup and exec events behind the inference
	Conn   *trace.Conn
	How    string
}

// connectsOf lists the inet connect attempts per pid, in order.
func connectsOf(x *Index) map[int32][]int {
	m := map[int32][]int{}
	for _, i := range x.Kind(trace.KindConnect) {
		a := x.Events[i].Addr
		if a == nil || a.Family == trace.FamilyUnix || a.IP == "" {
			continue
		}
		m[x.Events[i].PID] = append(m[x.Events[i].PID], i)
	}
	return m
}

// connectStarted reports whether a connect reached the network: it
// succeeded, or a non-blocking socket's connect was under way.
func connectStarted(e *trace.Event) bool { return e.Errno == 0 || e.Errno == errEINPROGRESS }

// socketShells finds shells wired to a network connection: the sinkhole
// saw a shell session, or a process connected and then (itself, or a
// child forked after the connect) ran an interactive shell, or a dup2 of
// the connected fd onto stdin/stdout preceded the shell. gVisor's dup
// points are often off, so the topology is what usually proves it.
func socketShells(x *Index) []socketShell {
	var out []socketShell
	seen := map[*Exec]bool{}
	add := func(s socketShell) {
		if !seen[s.Exec] {
			seen[s.Exec] = true
			out = append(out, s)
		}
	}
	conns := connectsOf(x)
	dups := map[int32][]int{}
	for _, name := range []string{"dup2", "dup3", "dup"} {
		for _, i := range x.Syscall(name) {
			e := &x.Events[i]
			if len(e.Args) >= 2 && e.Args[1] <= 2 {
				dups[e.PID] = append(dups[e.PID], i)
			}
		}
	}
	for _, e := range x.Execs {
		if e.Start || !isShell(e.Name) {
			continue
		}
		inter := interactiveShell(e.Image)
		// The shell's own process connected before it became the shell.
		for _, c := range conns[e.PID] {
			if x.Events[c].Seq >= e.Seq {
				continue
			}
			ev := []int{c, e.Ev}
			for _, d := range dups[e.PID] {
				if x.Events[d].Seq > x.Events[c].Seq && x.Events[d].Seq < e.Seq {
					ev = append(ev, d)
				}
			}
			if inter || len(ev) > 2 {
				add(socketShell{Exec: e, Events: ev, How: "process connected, then became " + e.Name})
			}
			break
		}
		// A parent that connected before forking this shell (python's
		// pty.spawn, perl's exec after dup2 in a child...).
		if inter && e.Proc.Parent != nil {
			pp := e.Proc.Parent
			for _, c := range conns[pp.PID] {
				if x.Events[c].Seq < e.Seq {
					add(socketShell{Exec: e, Events: []int{c, e.Ev}, How: "parent connected, then ran " + e.Name})
					break
				}
			}
			// A pipeline sibling that carries the traffic: cat f | sh -i | nc host port.
			if !seen[e] {
				for _, sib := range pp.Children {
					if sib == e.Proc {
						continue
					}
					for _, c := range conns[sib.PID] {
						if img := x.ImageAt(c); img != nil && networkTools[family(img.Name)] {
							add(socketShell{Exec: e, Events: []int{c, e.Ev}, How: "shell piped to " + img.Name})
							break
						}
					}
				}
			}
		}
	}
	if n := x.Run.Network; n != nil {
		for ci := range n.Conns {
			c := &n.Conns[ci]
			if c.App != "shell" && c.Shell == nil {
				continue
			}
			var ex *Exec
			for _, e := range x.Execs {
				if e.PID == c.PID && isShell(e.Name) {
					ex = e
				}
			}
			if ex == nil {
				ex = &Exec{Image: &Image{Ev: -1, PID: c.PID, Name: "shell"}}
				if p := x.Proc(c.PID); p != nil {
					ex.Proc = p
					if len(p.Images) > 0 {
						ex.Image = p.Images[len(p.Images)-1]
					}
				}
			}
			s := socketShell{Exec: ex, Conn: c, How: "the sinkhole talked to a shell"}
			if ex.Image.Ev >= 0 {
				s.Events = []int{ex.Image.Ev}
			}
			add(s)
		}
	}
	return out
}

// writeExec is a file written during the run and later executed.
type writeExec struct {
	Path  string
	Write *Open
	File  *trace.FileChange
	Exec  *Exec
}

// writtenThenExecuted pairs executions with the last write of the same
// file before them (by programs other than package managers).
func writtenThenExecuted(x *Index) []writeExec {
	writes := map[string][]*Open{}
	for _, o := range x.Opens {
		if o.Write() && !o.Failed {
			writes[o.Path] = append(writes[o.Path], o)
		}
	}
	var out []writeExec
	done := map[string]bool{}
	for _, e := range x.Execs {
		if e.Start {
			continue
		}
		for _, p := range executedFiles(e) {
			if done[p] {
				continue
			}
			var last *Open
			for _, o := range writes[p] {
				if x.Events[o.Ev].Seq < e.Seq {
					last = o
				}
			}
			if last == nil || installedWrite(x, last) {
				continue
			}
			done[p] = true
			out = append(out, writeExec{Path: p, Write: last, File: x.File(p), Exec: e})
		}
	}
	// Files the diff shows as new but whose write the trace missed (a
	// rename into place): only when no package manager ran at all.
	if len(x.ExecsOf(packageManagers)) == 0 {
		executed := x.ExecutedPaths()
		for _, p := range sortedKeys(executed) {
			if done[p] || len(writes[p]) > 0 {
				continue
			}
			// A new symlink carries no code: the binary it leads to is
			// what ran (a venv's bin/python -> /usr/bin/python3).
			if f := x.File(p); f != nil && f.Op == trace.FileCreated && f.Type != trace.TypeSymlink {
				out = append(out, writeExec{Path: p, File: f, Exec: executed[p][0]})
				done[p] = true
			}
		}
	}
	return out
}

// deleted is an executed file removed afterwards.
type deleted struct {
	Path   string
	Exec   *Exec
	Events []int
	File   *trace.FileChange
	How    string
}

// deletedAfterExec finds executed files that were then removed: by the fs
// diff, by an rm/shred/unlink command naming them, or (for programs that
// unlink themselves) an unlink call by the writer after the run of a file
// the diff no longer holds.
func deletedAfterExec(x *Index) []deleted {
	executed := x.ExecutedPaths()
	var out []deleted
	done := map[string]bool{}
	for _, p := range sortedKeys(executed) {
		if f := x.File(p); f != nil && f.Op == trace.FileDeleted {
			e := executed[p][0]
			out = append(out, deleted{Path: p, Exec: e, Events: []int{e.Ev}, File: f, How: "the fs diff lists it as deleted"})
			done[p] = true
		}
	}
	for _, rm := range x.ExecsOf(set("rm", "shred", "unlink", "srm", "wipe")) {
		for _, op := range operands(rm.Args) {
			p := resolve(rm.Cwd, op)
			if done[p] {
				continue
			}
			for _, e := range executed[p] {
				if e.Seq < rm.Seq {
					out = append(out, deleted{Path: p, Exec: e, Events: []int{e.Ev, rm.Ev}, How: rm.Name + " removed it after it ran"})
					done[p] = true
					break
				}
			}
		}
	}
	// Without a diff, absence from it proves nothing.
	if !x.Run.Diffed && len(x.Run.Files) == 0 {
		return out
	}
	unlinks := append(append([]int(nil), x.Syscall("unlink")...), x.Syscall("unlinkat")...)
	for _, we := range writtenThenExecuted(x) {
		if done[we.Path] || we.Write == nil || we.File != nil {
			continue
		}
		for _, u := range unlinks {
			ue := &x.Events[u]
			if ue.Seq > we.Exec.Seq && (ue.PID == we.Write.PID || ue.PID == we.Exec.PID) && ue.Errno == 0 {
				out = append(out, deleted{Path: we.Path, Exec: we.Exec, Events: []int{we.Write.Ev, we.Exec.Ev, u},
					How: "its writer unlinked a file after running it and the fs diff does not hold it"})
				done[we.Path] = true
				break
			}
		}
	}
	return out
}

// chmodSetID returns chmod calls and chmod commands that set setuid or
// setgid bits (attempts included: gVisor may refuse them).
func chmodSetID(x *Index) []int {
	var out []int
	for name, arg := range map[string]int{"chmod": 1, "fchmod": 1, "fchmodat": 2, "fchmodat2": 2} {
		for _, i := range x.Syscall(name) {
			e := &x.Events[i]
			if len(e.Args) > arg && e.Args[arg]&(modeSetuid|modeSetgid) != 0 && e.Args[arg] <= 07777 {
				out = append(out, i)
			}
		}
	}
	for _, e := range x.ExecsOf(set("chmod")) {
		for _, a := range e.Args {
			if setIDMode(a) {
				out = append(out, e.Ev)
				break
			}
		}
	}
	sortInts(out)
	return out
}

// setIDMode reports a chmod mode argument that sets setuid/setgid:
// u+s, g+s, +s, a+s, 4755, 2755, 6755.
func setIDMode(a string) bool {
	if strings.HasPrefix(a, "-") {
		return false
	}
	if strings.Contains(a, "+") || strings.Contains(a, "=") {
		for _, clause := range strings.Split(a, ",") {
			_, perms, ok := strings.Cut(clause, "+")
			if !ok {
				_, perms, ok = strings.Cut(clause, "=")
			}
			if ok && strings.ContainsRune(perms, 's') {
				return true
			}
		}
		return false
	}
	if len(a) == 4 || len(a) == 5 {
		for _, c := range a {
			if c < '0' || c > '7' {
				return false
			}
		}
		d := a[len(a)-4]
		return d == '2' || d == '4' || d == '6' || d == '3' || d == '5' || d == '7'
	}
	return false
}

// forkChildren returns the distinct pids created by process (not thread)
// clones.
func forkChildren(x *Index) map[int32]int {
	m := map[int32]int{}
	for _, i := range x.Kind(trace.KindClone) {
		e := &x.Events[i]
		if e.Thread || e.Child == 0 {
			continue
		}
		if _, ok := m[e.Child]; !ok {
			m[e.Child] = i
		}
	}
	return m
}

// Programs that legitimately read the secrets of their own kind.
var (
	sshPrograms   = set("ssh", "sshd", "ssh-add", "ssh-agent", "ssh-keygen", "scp", "sftp", "git", "rsync", "ssh-keyscan", "sshd-session", "sshd-auth")
	cloudPrograms = set("aws", "gcloud", "gsutil", "az", "kubectl", "helm", "docker", "git", "git-credential-store",
		"npm", "pip", "twine", "terraform", "gh", "rclone", "vault", "s3cmd", "mysql", "psql", "pg_dump", "cargo",
		"gem", "kubelet", "containerd", "dockerd", "crictl", "podman", "skopeo", "gpg", "gpg-agent", "pass",
		"gnome-keyring-daemon", "secret-tool", "krb5", "kinit", "klist")
)

// ownsCredential reports a read of a secret by the program that owns it:
// sudo reading /etc/shadow through PAM, sshd reading its host keys.
func ownsCredential(x *Index, o *Open) bool {
	if o.Img == nil {
		return false
	}
	name := family(o.Img.Name)
	switch credentialFile(o.Path) {
	case "shadow":
		return authPrograms[name] || authPrograms[o.Img.Name] || x.UnderAny(o.PID, packageManagers)
	case "ssh-key":
		return sshPrograms[name] || sshPrograms[o.Img.Name]
	case "history":
		// Interactive shells and REPLs load their own history.
		return isShell(name) || isInterpreter(name) || name == "less" || name == "vim" || name == "mysql" || name == "psql"
	case "cloud", "k8s-token", "kerberos":
		return cloudPrograms[name] || cloudPrograms[o.Img.Name]
	case "browser":
		return strings.Contains(name, "firefox") || strings.Contains(name, "chrom")
	}
	return false
}

func sortInts(a []int) { sort.Ints(a) }

// baseName is path.Base that keeps "" for "".
func baseName(p string) string {
	if p == "" {
		return ""
	}
	return path.Base(p)
}

// writer is the program that produced an open's data. A shell applies a
// redirection (`cmd > file`) in the forked child before exec'ing cmd, so
// the open shows the shell; the child's next program is the real writer.
func writer(x *Index, o *Open) *Image {
	if o.Img == nil || !isShell(o.Img.Name) {
		return o.Img
	}
	p := x.Proc(o.PID)
	if p == nil {
		return o.Img
	}
	seq := x.Events[o.Ev].Seq
	for _, img := range p.Images {
		if img.Seq > seq {
			return img
		}
	}
	return o.Img
}

// LineageImages lists the images of a process and its ancestors, nearest
// first.
func (x *Index) LineageImages(pid int32) []*Image {
	var out []*Image
	for q, n := x.procs[pid], 0; q != nil && n < 4096; q, n = q.Parent, n+1 {
		for i := len(q.Images) - 1; i >= 0; i-- {
			out = append(out, q.Images[i])
		}
		if len(q.Images) == 0 && q.Origin != nil {
			out = append(out, q.Origin)
		}
	}
	return out
}

// installing reports a process that runs under a package manager or a
// Python installer (pip, ensurepip, venv, setup.py): what those write is
// the image being set up, not an attack on it.
func installing(x *Index, pid int32) bool {
	if v, ok := x.installMemo[pid]; ok {
		return v
	}
	v := installingUncached(x, pid)
	x.installMemo[pid] = v
	return v
}

func installingUncached(x *Index, pid int32) bool {
	for _, img := range x.LineageImages(pid) {
		fam := img.Fam
		if packageManagers[fam] || packageManagers[img.Name] || fam == "virtualenv" {
			return true
		}
		if fam == "python" || fam == "pypy" {
			for _, a := range img.Args {
				if a == "pip" || a == "ensurepip" || a == "venv" || a == "virtualenv" || strings.HasSuffix(a, "setup.py") ||
					strings.Contains(a, `run_module("pip"`) || strings.Contains(a, "run_module('pip'") || strings.HasSuffix(a, "/pip") {
					return true
				}
			}
		}
	}
	return false
}

// installedWrite reports a write made while installing software.
func installedWrite(x *Index, o *Open) bool {
	return o.Img != nil && installing(x, o.PID)
}

// persistenceWrites returns writes (attempts too) to paths of one
// persistence kind, minus those made while installing software.
func persistenceWrites(x *Index, kinds ...string) []*Open {
	var out []*Open
	for _, o := range x.Opens {
		if !o.Write() || (o.Failed && o.Errno == errENOENT && !strings.HasPrefix(o.Path, "/etc/")) {
			continue
		}
		if o.Persist != "" && contains(kinds, o.Persist) && !installedWrite(x, o) {
			out = append(out, o)
		}
	}
	return out
}

// persistenceDiff returns fs diff entries of one persistence kind that no
// traced write explains, when nothing was installed during the run.
func persistenceDiff(x *Index, traced []*Open, kinds ...string) []trace.FileChange {
	if len(x.ExecsOf(packageManagers)) > 0 {
		return nil
	}
	// Any traced write explains a diff entry, installers' and exempt
	// programs' included: those were judged (and excused) already.
	seen := map[string]bool{}
	for _, o := range traced {
		seen[o.Path] = true
	}
	for _, o := range x.Opens {
		if o.Write() && !o.Failed {
			seen[o.Path] = true
		}
	}
	var out []trace.FileChange
	for _, f := range x.Run.Files {
		if f.Op != trace.FileDeleted && !seen[f.Path] && contains(kinds, persistenceKind(f.Path)) {
			out = append(out, f)
		}
	}
	return out
}
