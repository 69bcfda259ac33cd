package analyzer

import (
	"strings"
)

func collectionRules() []Rule {
	return []Rule{
		{
			ID: "collection.archive-utility", Title: "Sensitive data archived or encrypted with a utility",
			Description: "tar, zip, 7z, rar or gzip packed files from /etc, /var/log, home directories or credential stores, or an archive was password-protected or symmetrically encrypted (zip -P, 7z -p, gpg -c). Packing an application's own files and log rotation are not it.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1560.001"},
			Match: matchArchiveUtility,
		},
		{
			ID: "collection.archive-library", Title: "Sensitive data archived by a program",
			Description: "A program other than an archiver (a script interpreter, a binary) read sensitive files and wrote a compressed archive.",
			Severity:    SeverityHigh, Confidence: 0.8, Techniques: []string{"T1560.002"},
			Match: matchArchiveLibrary,
		},
		{
			ID: "collection.staging", Title: "Sensitive data staged in a temp directory",
			Description: "Credential or system files were copied into /tmp, /var/tmp or /dev/shm, or a program that read credentials wrote files there.",
			Severity:    SeverityMedium, Confidence: 0.75, Techniques: []string{"T1074.001"},
			Match: matchStaging,
		},
		{
			ID: "collection.automated", Title: "Search results collected automatically",
			Description: "find -exec or xargs fed search results to cp, tar, cat or an uploader.",
			Severity:    SeverityMedium, Confidence: 0.7, Techniques: []string{"T1119"},
			Match: matchAutomatedCollection,
		},
		{
			ID: "collection.desktop", Title: "Clipboard, screen, camera or microphone captured",
			Description: "xclip/xsel read the clipboard, a screenshot tool grabbed the screen, or a video or audio capture device was opened.",
			Severity:    SeverityMedium, Confidence: 0.8, Techniques: []string{"T1115", "T1113", "T1125", "T1123"},
			Match: matchDesktopCapture,
		},
	}
}

var archivers = set("tar", "zip", "7z", "7za", "7zr", "rar", "gzip", "bzip2", "xz", "zstd", "pigz", "lz4", "cpio", "gpg", "openssl", "bsdtar", "lzma", "zipcloak")

// sensitiveOperand reports a command operand naming sensitive data. A
// relative name counts only when it resolves to a credential file: the
// working directory is often a home directory.
func sensitiveOperand(cwd, op string) bool {
	p := resolve(cwd, op)
	if !strings.HasPrefix(op, "/") && !strings.HasPrefix(op, "~") {
		return credentialFile(p) != ""
	}
	return sensitiveSource(p)
}

// sensitiveSource reports paths whose contents an attacker collects.
func sensitiveSource(p string) bool {
	if credentialFile(p) != "" || shadowFiles[p] {
		return true
	}
	if p == "/etc" || under(p, "/etc/ssh", "/etc/ssl/private", "/var/log", "/root", "/home") || p == "/etc/passwd" || p == "/etc/group" || isSudoers(p) {
		return true
	}
	return false
}

func archiveEncrypted(e *Exec) bool {
	switch family(e.Name) {
	case "zip":
		return hasArg(e.Args, "-P", "--password", "-e", "--encrypt")
	case "7z", "7za", "7zr":
		return hasArgPrefix(e.Args, "-p")
	case "rar":
		return hasArgPrefix(e.Args, "-p", "-hp")
	case "gpg":
		return hasArg(e.Args, "-c", "--symmetric", "-e", "--encrypt")
	case "openssl":
		return hasArg(e.Args, "enc") && !hasArg(e.Args, "-d")
	case "zipcloak":
		return true
	}
	return false
}

func matchArchiveUtility(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(archivers) {
		if infoOnly(e.Args) || installing(x, e.PID) || x.UnderAny(e.PID, logRotators) {
			continue
		}
		if archiveEncrypted(e) {
			hits = append(hits, hitExec(e, "encrypted archive: "+cmdline(e.Image)))
			continue
		}
		if family(e.Name) == "gpg" || family(e.Name) == "openssl" {
			continue
		}
		// Extraction is not collection.
		if extracting(e) {
			continue
		}
		dir := e.Cwd
		for i, a := range e.Args {
			if (a == "-C" || a == "--directory") && i+1 < len(e.Args) {
				dir = resolve(e.Cwd, e.Args[i+1])
			}
		}
		for _, op := range operands(e.Args) {
			if sensitiveOperand(dir, op) {
				hits = append(hits, hitExec(e, "archived "+resolve(dir, op)+": "+cmdline(e.Image)))
				break
			}
		}
	}
	return hits
}

var archiveExts = set("gz", "tgz", "zip", "tar", "bz2", "xz", "7z", "rar", "zst", "lz4", "tbz", "txz", "gpg", "enc")

// sensitiveReaders maps each pid to its reads of sensitive files.
func sensitiveReaders(x *Index, nss bool) map[int32][]*Open {
	m := map[int32][]*Open{}
	for _, o := range x.Opens {
		if o.Write() || o.Failed || o.Img == nil || !sensitiveSource(o.Path) || !strings.HasPrefix(o.Path, "/") {
			continue
		}
		// Daemons and login programs read these files for their own work.
		if credentialFile(o.Path) != "" && ownsCredential(x, o) {
			continue
		}
		if !nss && (o.Path == "/etc/passwd" || o.Path == "/etc/group") {
			continue // NSS lookups, everyone does them
		}
		if logFile(o.Path) && !textTools[family(o.Img.Name)] {
			continue
		}
		m[o.PID] = append(m[o.PID], o)
	}
	return m
}

func matchArchiveLibrary(x *Index) []Hit {
	var hits []Hit
	// Reading /etc/passwd and then writing an archive is collection even
	// though NSS reads the file too.
	readers := sensitiveReaders(x, true)
	for _, o := range x.Opens {
		if !o.Write() || o.Failed || o.Img == nil || !archiveExts[ext(o.Path)] {
			continue
		}
		if archivers[family(o.Img.Name)] || isShell(o.Img.Name) || installedWrite(x, o) || x.UnderAny(o.PID, logRotators) {
			continue
		}
		reads := readers[o.PID]
		if len(reads) == 0 {
			continue
		}
		h := hitOpen(o, o.Img.Name+" read "+reads[0].Path+" and wrote "+o.Path)
		for _, r := range reads[:min(len(reads), 8)] {
			h.Events = append(h.Events, r.Ev)
		}
		hits = append(hits, h)
	}
	return hits
}

func matchStaging(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("cp", "mv", "rsync", "install", "dd", "cat", "tar")) {
		ops := operandsSkippingValues(e.Args, set("-o", "-g", "-m", "--owner", "--group", "--mode", "-t", "-S"))
		if len(ops) < 2 || installing(x, e.PID) || family(e.Name) == "install" && hasArg(e.Args, "-d") {
			continue
		}
		dst := resolve(e.Cwd, strings.TrimPrefix(ops[len(ops)-1], "of="))
		if !isScratch(dst) {
			continue
		}
		for _, op := range ops[:len(ops)-1] {
			op = strings.TrimPrefix(op, "if=")
			if src := resolve(e.Cwd, op); sensitiveOperand(e.Cwd, op) && src != "/etc" {
				hits = append(hits, hitExec(e, "copied "+src+" to "+dst))
				break
			}
		}
	}
	readers := sensitiveReaders(x, false)
	seen := map[int32]bool{}
	for _, o := range x.Opens {
		if !o.Write() || o.Failed || o.Img == nil || !isScratch(o.Path) || seen[o.PID] {
			continue
		}
		reads := readers[o.PID]
		creds := 0
		for _, r := range reads {
			if credentialFile(r.Path) != "" {
				creds++
			}
		}
		if creds >= 2 && !textTools[family(o.Img.Name)] {
			seen[o.PID] = true
			h := hitOpen(o, o.Img.Name+" read credentials and wrote "+o.Path)
			for _, r := range reads[:min(len(reads), 8)] {
				h.Events = append(h.Events, r.Ev)
			}
			hits = append(hits, h)
		}
	}
	return hits
}

var collectors = set("cp", "tar", "cat", "scp", "curl", "wget", "zip", "rsync", "nc", "base64", "mv", "7z")

// findsSensitive reports a find over the whole system, home or config
// directories, or one looking for secret-sounding names.
func findsSensitive(e *Exec) bool {
	ops := operands(e.Args)
	if len(ops) > 0 && (ops[0] == "/" || sensitiveSource(resolve(e.Cwd, ops[0])) || ops[0] == "~") {
		return true
	}
	for _, a := range e.Args {
		if secretWordRe.MatchString(a) || keyNameRe.MatchString(a) || browserPathRe.MatchString(a) {
			return true
		}
	}
	return false
}

func matchAutomatedCollection(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.ExecsOf(set("find")) {
		if installing(x, e.PID) || !findsSensitive(e) {
			continue
		}
		for i, a := range e.Args {
			if (a == "-exec" || a == "-execdir" || a == "-ok") && i+1 < len(e.Args) {
				if collectors[family(baseName(e.Args[i+1]))] {
					hits = append(hits, hitExec(e, cmdline(e.Image)))
				}
				break
			}
		}
	}
	for _, e := range x.ExecsOf(set("xargs")) {
		ops := operands(e.Args)
		if len(ops) >= 2 && collectors[family(baseName(ops[0]))] && isScratch(resolve(e.Cwd, ops[len(ops)-1])) && !installing(x, e.PID) {
			hits = append(hits, hitExec(e, cmdline(e.Image)))
		}
	}
	return hits
}

func matchDesktopCapture(x *Index) []Hit {
	var hits []Hit
	for _, e := range x.Execs {
		fam := family(e.Name)
		var tech string
		switch fam {
		case "xclip", "xsel", "wl-paste", "xdotool":
			if fam == "wl-paste" || hasArg(e.Args, "-o", "-out", "--output", "-selection", "getactivewindow") {
				tech = "T1115"
			}
		case "scrot", "gnome-screenshot", "xwd", "grim", "maim", "spectacle", "flameshot":
			tech = "T1113"
		case "import":
			if hasArg(e.Args, "-window") {
				tech = "T1113"
			}
		case "ffmpeg":
			switch {
			case hasArg(e.Args, "x11grab", "kmsgrab"):
				tech = "T1113"
			case hasArg(e.Args, "v4l2", "video4linux2"):
				tech = "T1125"
			case hasArg(e.Args, "alsa", "pulse"):
				tech = "T1123"
			}
		case "fswebcam", "streamer":
			tech = "T1125"
		case "arecord", "parecord", "rec":
			tech = "T1123"
		}
		if tech != "" && !infoOnly(e.Args) {
			hits = append(hits, Hit{Events: []int{e.Ev}, Summary: cmdline(e.Image), Techniques: []string{tech}})
		}
	}
	for _, o := range x.Opens {
		switch {
		case strings.HasPrefix(o.Path, "/dev/video"):
			hits = append(hits, Hit{Events: []int{o.Ev}, Summary: "opened " + o.Path, Techniques: []string{"T1125"}})
		case strings.HasPrefix(o.Path, "/dev/snd/pcm") && strings.HasSuffix(o.Path, "c"):
			hits = append(hits, Hit{Events: []int{o.Ev}, Summary: "opened " + o.Path, Techniques: []string{"T1123"}})
		}
	}
	return hits
}

// extracting reports an archiver asked to unpack, test or list.
func extracting(e *Exec) bool {
	fam := family(e.Name)
	if fam == "zip" {
		return false
	}
	if fam == "tar" || fam == "bsdtar" {
		if len(e.Args) > 0 && !strings.HasPrefix(e.Args[0], "-") {
			return strings.ContainsAny(e.Args[0], "xt")
		}
		for _, a := range e.Args {
			if a == "--extract" || a == "--list" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "xt") {
				return true
			}
		}
		return false
	}
	if fam == "7z" || fam == "7za" || fam == "7zr" || fam == "rar" {
		return hasArg(e.Args, "x", "e", "l", "t")
	}
	return hasArg(e.Args, "-d", "--decompress", "--uncompress", "-t", "--test", "-l", "--list")
}
