package analyzer

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

func impactRules() []Rule {
	return []Rule{
		{
			ID: "impact.miner", Title: "Cryptocurrency mining",
			Description: "The sinkhole heard the stratum mining protocol (with a wallet), a known miner ran, a command line named a pool (stratum+tcp://) or a wallet, or a mining pool's name was resolved.",
			Severity:    SeverityCritical, Confidence: 0.9, Techniques: []string{"T1496", "T1496.001"},
			Match: matchMiner,
		},
		{
			ID: "impact.data-destruction", Title: "Data overwritten or wiped",
			Description: "dd wrote zeros or random bytes over an existing file or a disk, shred/wipe ran, a filesystem was made on a disk, or rm was aimed at the filesystem root.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1485", "T1561.001"},
			Match: matchDataDestruction,
		},
		{
			ID: "impact.encryption", Title: "Files encrypted in place",
			Description: "ccrypt/ccencrypt or an encryption command replaced files with ciphertext, files reappeared with a ransomware extension while the originals vanished, or a ransom note was written.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1486"},
			Match: matchEncryption,
		},
		{
			ID: "impact.service-stop", Title: "Services stopped or killed by name",
			Description: "killall/pkill, systemctl stop/disable/mask, service X stop or an init script's stop: stopping a service, not a script reaping its own child.",
			Severity:    SeverityMedium, Confidence: 0.65, Techniques: []string{"T1489"},
			Match: matchServiceStop,
		},
		{
			ID: "impact.shutdown", Title: "Shutdown or reboot attempted",
			Description: "reboot/shutdown/halt/poweroff, systemctl reboot, the reboot(2) call, or a write to /proc/sysrq-trigger. Harmless under gVisor; the attempt counts.",
			Severity:    SeverityHigh, Confidence: 0.85, Techniques: []string{"T1529"},
			Match: matchShutdown,
		},
		{
			ID: "impact.inhibit-recovery", Title: "Backups or snapshots destroyed",
			Description: "Backup files (/var/backups, *.bak, backup directories) were deleted, or LVM/ZFS/btrfs snapshots removed.",
			Severity:    SeverityHigh, Confidence: 0.75, Techniques: []string{"T1490"},
			Match: matchInhibitRecovery,
		},
		{
			ID: "impact.account-removal", Title: "Accounts locked, deleted or their passwords changed",
			Description: "userdel/deluser of an account the run did not create, passwd -l/-d, usermod -L or an expiry in the past, or chpasswd on existing accounts.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1531"},
			Match: matchAccountRemoval,
		},
	}
}

var poolRe = regexp.MustCompile(`(?i)stratum\+(tcp|ssl|tls)://|\b(xmr|monero|nanopool|minexmr|supportxmr|hashvault|2miners|f2pool|nicehash|ethermine|c3pool|moneroocean|herominers|unmineable|minergate|dwarfpool|miningpoolhub|viabtc|antpool|slushpool|kryptex|zergpool|prohashing)[.-]|(^|[.-])pool\.|--donate-level|--coin[= ]|--algo[= ](rx|cn|randomx|kawpow|ethash)`)

// moneroWallet matches Monero addresses: 95 (or 106) base58 chars from 4 or 8.
var moneroWallet = regexp.MustCompile(`\b[48][1-9A-HJ-NP-Za-km-z]{94}([1-9A-HJ-NP-Za-km-z]{11})?\b`)

var poolPorts = map[uint16]bool{3333: true, 3334: true, 3335: true, 3336: true, 3357: true, 5555: true, 5556: true, 5588: true,
	7777: true, 9999: true, 10001: true, 10128: true, 13333: true, 14433: true, 14444: true, 15555: true, 17777: true, 19999: true,
	20535: true, 20580: true, 45560: true, 45700: true}

func matchMiner(x *Index) []Hit {
	var hits []Hit
	if n := x.Run.Network; n != nil {
		for _, c := range n.Conns {
			if c.App == "stratum" || c.Stratum != nil {
				s := "stratum session with " + c.DstIP + ":" + strconv.Itoa(int(c.DstPort))
				if c.Stratum != nil && c.Stratum.Wallet != "" {
					s += ", wallet " + clip(c.Stratum.Wallet, 24)
				}
				hits = append(hits, Hit{Conns: []trace.Conn{c}, Summary: s})
			}
		}
		for _, q := range n.DNS {
			if poolRe.MatchString(q.Name) {
				hits = append(hits, Hit{DNS: []trace.DNSQuery{q}, Summary: "resolved mining pool " + q.Name, Severity: SeverityHigh})
			}
		}
	}
	for _, e := range x.Execs {
		if miners[family(e.Name)] || miners[e.Name] {
			hits = append(hits, hitExec(e, "miner "+e.Name+" ran"))
			continue
		}
		text := strings.Join(e.Args, " ")
		if m := poolRe.FindString(text); m != "" && !isShell(e.Name) {
			hits = append(hits, hitExec(e, "pool on the command line ("+m+"): "+cmdline(e.Image)))
		} else if moneroWallet.MatchString(text) && !isShell(e.Name) {
			hits = append(hits, hitExec(e, "wallet on the command line: "+cmdline(e.Image)))
		}
	}
	// A pool port on its own is weak; with the CPU busy it is mining.
	if cpuShare(x.Run) >= 0.5 {
		for _, i := range x.Kind(trace.KindConnect) {
			if a := x.Events[i].Addr; a != nil && poolPorts[a.Port] && !isLoopback(a.IP) {
				hits = append(hits, Hit{Events: []int{i}, Summary: "connect to pool port " + strconv.Itoa(int(a.Port)) + " while the CPU was busy", Severity: SeverityHigh, Confidence: 0.75})
				break
			}
		}
	}
	return hits
}

// cpuShare is CPU time over wall time.
func cpuShare(run *trace.Run) float64 {
	w := wall(run).Seconds()
	if w <= 0 {
		return 0
	}
	return run.Resources.CPUTime.Std().Seconds() / w
}

var wipeSources = set("/dev/zero", "/dev/urandom", "/dev/random")

func matchDataDestruction(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("dd")) {
		var in, out string
		for _, a := range e.Args {
			if v, ok := strings.CutPrefix(a, "if="); ok {
				in = v
			}
			if v, ok := strings.CutPrefix(a, "of="); ok {
				out = resolve(e.Cwd, v)
			}
		}
		if !wipeSources[in] || out == "" {
			continue
		}
		if blockDevice(out) {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "disk wiped: " + cmdline(e.Image), Techniques: []string{"T1561.001"}, Severity: SeverityCritical})
			continue
		}
		f := x.File(out)
		existed := (f != nil && f.Op == trace.FileModified) || (f == nil && !isScratch(out) && out != "/dev/null") ||
			filledBefore(x, out, e)
		if existed && !strings.HasPrefix(out, "/dev/") && !strings.HasPrefix(out, "/proc/") {
			h := Hit{Events: []int{e.Ev}, Summary: "overwrote " + out + " with " + in, Techniques: []string{"T1485"}}
			if f != nil {
				h.Files = []trace.FileChange{*f}
			}
			hits = append(hits, h)
		}
	}
	for _, e := range x.ExecsOf(set("shred", "wipe", "srm", "wipefs", "blkdiscard")) {
		if infoOnly(e.Args) || len(operands(e.Args)) == 0 {
			continue
		}
		tech := "T1485"
		if anyBlockDevice(e.Args) || family(e.Name) == "wipefs" || family(e.Name) == "blkdiscard" {
			tech = "T1561.001"
		}
		hits = append(hits, Hit{Events: []int{e.Ev}, Summary: cmdline(e.Image), Techniques: []string{tech}})
	}
	for _, e := range x.Execs {
		if strings.HasPrefix(family(e.Name), "mkfs") && anyBlockDevice(e.Args) {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: cmdline(e.Image), Techniques: []string{"T1561.001"}})
		}
	}
	for _, e := range x.ExecsOf(set("rm")) {
		for _, op := range operands(e.Args) {
			if (op == "/" || op == "/*") && hasArgPrefix(e.Args, "-r", "-R", "-f", "--recursive") {
				hits = append(hits, Hit{Events: []int{e.Ev}, Summary: "rm of the whole filesystem: " + cmdline(e.Image), Techniques: []string{"T1485"}, Severity: SeverityCritical})
				break
			}
		}
	}
	return hits
}

// emptyFileMakers create files without content: a file they made and dd
// then filled is being allocated, not destroyed.
var emptyFileMakers = set("touch", "truncate", "fallocate", "mktemp", "install", "mkfile")

// filledBefore reports that another program wrote p before e ran: the fs
// diff calls such a file created, yet it held data dd then replaced.
func filledBefore(x *Index, p string, e *Exec) bool {
	for _, o := range x.Opens {
		if x.Events[o.Ev].Seq >= e.Seq {
			break
		}
		if o.Path != p || o.Failed || !o.Write() || o.PID == e.PID && o.Img == e.Image {
			continue
		}
		if w := writer(x, o); w == nil || !emptyFileMakers[family(w.Name)] {
			return true
		}
	}
	return false
}

var ransomExts = set("cpt", "enc", "locked", "crypt", "crypted", "encrypted", "crypto", "locky", "cerber", "wncry", "wcry", "ryk", "lockbit", "conti", "pay", "ransom", "aes", "gpg")
var ransomNoteRe = regexp.MustCompile(`(?i)(decrypt|recover|restore|ransom|how[_-]?to|readme).*(files|decrypt|instructions|\.txt|\.html)|^(read_?me|!+readme)`)

func matchEncryption(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("ccrypt", "ccencrypt", "ransomware", "gocryptfs", "encfs")) {
		if infoOnly(e.Args) || hasArg(e.Args, "-d", "--decrypt") || family(e.Name) != "ccencrypt" && family(e.Name) != "ccrypt" {
			continue
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	for _, e := range x.ExecsOf(set("openssl")) {
		if hasArg(e.Args, "enc") && !hasArg(e.Args, "-d") && hasArg(e.Args, "-in") {
			for i, a := range e.Args {
				if a == "-in" && i+1 < len(e.Args) {
					in := resolve(e.Cwd, e.Args[i+1])
					if f := x.File(in); f != nil && f.Op == trace.FileDeleted {
						hits = append(hits, hitExec(e, "encrypted and removed "+in))
					}
				}
			}
		}
	}
	// Ciphertext beside a vanished original: foo -> foo.locked.
	deleted := map[string]bool{}
	for _, f := range x.Run.Files {
		if f.Op == trace.FileDeleted {
			deleted[f.Path] = true
		}
	}
	var replaced []trace.FileChange
	for _, f := range x.Run.Files {
		if f.Op == trace.FileCreated && ransomExts[ext(f.Path)] && deleted[strings.TrimSuffix(f.Path, path.Ext(f.Path))] {
			replaced = append(replaced, f)
		}
	}
	seenOrig := map[string]bool{}
	for _, o := range x.Opens {
		if o.Write() && !o.Failed && o.Flags&oCreat != 0 && ransomExts[ext(o.Path)] {
			orig := strings.TrimSuffix(o.Path, path.Ext(o.Path))
			if f := x.File(orig); f != nil && f.Op == trace.FileDeleted && !seenOrig[orig] {
				seenOrig[orig] = true
				hits = append(hits, hitOpen(o, "wrote "+o.Path+" and "+orig+" is gone"))
			}
		}
	}
	if len(replaced) > 0 && len(seenOrig) == 0 {
		hits = append(hits, Hit{Files: replaced, Summary: strconv.Itoa(len(replaced)) + " files replaced by encrypted copies"})
	}
	for _, f := range x.Run.Files {
		if f.Op == trace.FileCreated && ransomNoteRe.MatchString(path.Base(f.Path)) && len(replaced) > 0 {
			hits = append(hits, Hit{Files: []trace.FileChange{f}, Summary: "ransom note " + f.Path})
		}
	}
	return hits
}

func matchServiceStop(x *Index) []Hit {
	var hits []Hit
	for _, s := range stopCommands(x) {
		ev := []int{s.Ev}
		// killall/pkill signal through pidfd_send_signal or kill(2).
		for _, name := range []string{"pidfd_send_signal", "kill", "tgkill"} {
			for _, i := range x.Syscall(name) {
				if x.Events[i].PID == s.PID && len(ev) < 6 {
					ev = append(ev, i)
				}
			}
		}
		hits = append(hits, Hit{Events: ev, Summary: s.Name + " stops " + strings.Join(s.targets, ", ")})
	}
	return hits
}

func matchShutdown(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("reboot", "shutdown", "halt", "poweroff", "telinit", "init", "systemctl", "kexec")) {
		fam := family(e.Name)
		switch fam {
		case "telinit", "init":
			if !hasArg(e.Args, "0", "6") {
				continue
			}
		case "systemctl":
			if !hasArg(e.Args, "reboot", "poweroff", "halt", "kexec", "emergency", "rescue") {
				continue
			}
		case "shutdown":
			if hasArg(e.Args, "-c") {
				continue
			}
		}
		if infoOnly(e.Args) || (e.Start && fam == "init") {
			continue
		}
		hits = append(hits, hitExec(e, cmdline(e.Image)))
	}
	for _, i := range x.Syscall("reboot") {
		hits = append(hits, Hit{Events: []int{i}, Summary: "reboot(2) called"})
	}
	for _, o := range x.WritesMatching(func(p string) bool { return p == "/proc/sysrq-trigger" }) {
		hits = append(hits, hitOpen(o, "opened /proc/sysrq-trigger for writing"))
	}
	return hits
}

func backupPath(p string) bool {
	b := strings.ToLower(path.Base(p))
	return under(p, "/var/backups", "/backup", "/backups", "/var/lib/backup", "/srv/backup") || strings.HasSuffix(b, ".bak") ||
		strings.HasSuffix(b, ".backup") || strings.Contains(p, "/.snapshots")
}

func matchInhibitRecovery(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("rm", "shred", "srm", "find")) {
		if installing(x, e.PID) {
			continue
		}
		if family(e.Name) == "find" && !hasArg(e.Args, "-delete") {
			continue
		}
		for _, op := range operands(e.Args) {
			if backupPath(resolve(e.Cwd, op)) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
				break
			}
		}
	}
	for _, e := range x.Execs {
		fam := family(e.Name)
		if fam == "lvremove" || (fam == "zfs" && hasArg(e.Args, "destroy")) || (fam == "btrfs" && hasArg(e.Args, "delete")) ||
			(fam == "snapper" && hasArg(e.Args, "delete")) {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	if len(x.ExecsOf(packageManagers)) == 0 {
		var gone []trace.FileChange
		for _, f := range x.FilesMatching(backupPath, trace.FileDeleted) {
			gone = append(gone, f)
		}
		if len(gone) > 0 {
			hits = append(hits, Hit{Files: gone, Summary: strconv.Itoa(len(gone)) + " backup files deleted"})
		}
	}
	return hits
}

func matchAccountRemoval(x *Index) []Hit {
	created := createdAccounts(x)
	var hits []Hit
	for _, e := range x.Execs {
		if installing(x, e.PID) || infoOnly(e.Args) {
			continue
		}
		ops := operands(e.Args)
		switch family(e.Name) {
		case "userdel", "deluser":
			if len(ops) > 0 && created[ops[len(ops)-1]] == nil {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
			}
		case "passwd":
			if hasArg(e.Args, "-l", "--lock", "-d", "--delete", "-e", "--expire") {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
			}
		case "usermod":
			if hasArg(e.Args, "-L", "--lock") || (hasArg(e.Args, "-e", "--expiredate") && hasArg(e.Args, "1", "0")) {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
			}
		case "chage":
			if hasArg(e.Args, "-E", "--expiredate") && hasArg(e.Args, "0", "1") {
				hits = append(hits, hitExec(e, cmdline(e.Image)))
			}
		}
	}
	return hits
}
