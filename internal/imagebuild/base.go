package imagebuild

import "io/fs"

// BusyboxApplets are the applets BusyboxBase links into /bin: enough for
// shells, download-and-run scripts and crontab edits.
var BusyboxApplets = []string{
	"ash", "awk", "base64", "basename", "cat", "chmod", "chown", "cp", "crontab",
	"cut", "date", "dd", "dirname", "echo", "env", "false", "find", "grep",
	"gunzip", "gzip", "head", "hostname", "id", "ifconfig", "ip", "kill", "ln",
	"ls", "mkdir", "mktemp", "mount", "mv", "nc", "netstat", "nslookup", "ps",
	"pwd", "rm", "sed", "sh", "sleep", "sort", "stat", "tail", "tar", "tee",
	"test", "timeout", "touch", "tr", "true", "uname", "wc", "wget", "whoami", "xargs",
}

// BusyboxBase returns the files of a minimal Linux userland: the static
// busybox binary at /bin/busybox (read from the host path busybox) with
// applet symlinks in /bin, the usual /etc account files (a fake
// /etc/shadow whose hashes match no password), and the directories
// programs expect (/root, /tmp and /var/tmp sticky and world-writable,
// cron spool).
func BusyboxBase(busybox string) []File {
	files := []File{
		{Path: "/bin/busybox", Source: busybox, Mode: 0o755},
		{Path: "/etc/passwd", Content: []byte("root:x:0:0:root:/root:/bin/sh\n" +
			"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n" +
			"www-data:x:33:33:www-data:/var/www:/bin/false\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Content: []byte("root:x:0:\ndaemon:x:1:\nshadow:x:42:\nwww-data:x:33:\nnogroup:x:65534:\n")},
		// Hashes are well-formed sha512-crypt strings of random salt and
		// digest: something to steal, nothing that opens a door.
		{Path: "/etc/shadow", Mode: 0o640, GID: 42, Content: []byte(
			"root:$6$Zq3lU0aN$2bB7kT0cV9mX4pQ1rS8wY6zE3uH5jK2lN7oP9qR1sT4uV6wX8yZ0aB2cD4eF6gH8iJ0kL2mN4oP6qR8sT0uV2w:19700:0:99999:7:::\n" +
				"daemon:*:19700:0:99999:7:::\n" +
				"www-data:*:19700:0:99999:7:::\n" +
				"nobody:*:19700:0:99999:7:::\n")},
		{Path: "/etc/hostname", Content: []byte("sandscan\n")},
		{Path: "/etc/hosts", Content: []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n")},
		{Path: "/etc/cron.d", Dir: true},
		{Path: "/etc/profile.d", Dir: true},
		{Path: "/root", Dir: true, Mode: 0o700},
		{Path: "/tmp", Dir: true, Mode: 0o777 | fs.ModeSticky},
		{Path: "/var/tmp", Dir: true, Mode: 0o777 | fs.ModeSticky},
		{Path: "/var/spool/cron/crontabs", Dir: true, Mode: 0o730},
		{Path: "/usr/local/bin", Dir: true},
	}
	for _, a := range BusyboxApplets {
		files = append(files, File{Path: "/bin/" + a, Link: "busybox"})
	}
	return files
}
