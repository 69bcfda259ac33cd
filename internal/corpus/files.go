package corpus

import (
	"fmt"
	"strings"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// extraApplets are linked into busybox images besides
// imagebuild.BusyboxApplets, for the variants' scripts.
var extraApplets = []string{
	"bzip2", "chroot", "crond", "df", "du", "expr", "free", "hexdump", "httpd", "killall", "md5sum",
	"mkfifo", "nproc", "nsenter", "od", "pidof", "printf", "seq", "sha256sum", "sha512sum", "shred",
	"shuf", "su", "sync", "telnet", "truncate", "unshare", "uptime", "usleep", "which", "xxd", "yes",
	"zcat", "umount", "logger", "ping", "route", "arp", "w", "who", "tac", "diff", "uniq", "bc",
}

// Fake secrets: shaped like the real thing, valid for nothing. The AWS pair
// is AWS's own documentation example.
var credentialFiles = []imagebuild.File{
	{Path: "/root/.ssh", Dir: true, Mode: 0o700},
	{Path: "/root/.ssh/id_rsa", Mode: 0o600, Content: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBzYW5kc2Nhbi1jb3JwdXMtZmFrZS1rZXktbm90LXJlYWwAAAAA\n-----END OPENSSH PRIVATE KEY-----\n")},
	{Path: "/root/.ssh/known_hosts", Content: []byte("git.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTheSandscanCorpus0000000\n")},
	{Path: "/root/.aws", Dir: true, Mode: 0o700},
	{Path: "/root/.aws/credentials", Mode: 0o600, Content: []byte("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")},
	{Path: "/root/.docker", Dir: true},
	{Path: "/root/.docker/config.json", Mode: 0o600, Content: []byte(`{"auths":{"registry.example":{"auth":"c2FuZHNjYW46bm90LWEtcGFzc3dvcmQ="}}}` + "\n")},
	{Path: "/root/.kube", Dir: true},
	{Path: "/root/.kube/config", Mode: 0o600, Content: []byte("apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: sandscan-fake-token\n")},
	{Path: "/root/.git-credentials", Mode: 0o600, Content: []byte("https://ci:not-a-token@git.example\n")},
	{Path: "/root/.netrc", Mode: 0o600, Content: []byte("machine ftp.example login backup password not-a-password\n")},
	{Path: "/root/.pgpass", Mode: 0o600, Content: []byte("db.example:5432:*:app:not-a-password\n")},
	{Path: "/run/secrets/kubernetes.io/serviceaccount/token", Content: []byte("eyJhbGciOiJSUzI1NiJ9.c2FuZHNjYW4tZmFrZQ.c2lnbmF0dXJl\n")},
	{Path: "/run/secrets/kubernetes.io/serviceaccount/namespace", Content: []byte("default\n")},
	{Path: "/srv/app/.env", Content: []byte("DATABASE_URL=postgres://app:not-a-password@db.example/app\nSTRIPE_KEY=sk_test_sandscanfake\n")},
}

// dataFiles makes n small documents under dir, something to back up,
// process, encrypt or destroy.
func dataFiles(dir string, n int, ext string) []imagebuild.File {
	files := []imagebuild.File{{Path: dir, Dir: true}}
	for i := 0; i < n; i++ {
		body := strings.Repeat(fmt.Sprintf("record %d of %s: lorem ipsum dolor sit amet\n", i, dir), 8+i%5)
		files = append(files, imagebuild.File{Path: fmt.Sprintf("%s/doc-%03d%s", dir, i, ext), Content: []byte(body)})
	}
	return files
}

// busyboxFiles is the busybox base plus the extra applet links.
func busyboxFiles(busybox string) []imagebuild.File {
	files := imagebuild.BusyboxBase(busybox)
	have := map[string]bool{}
	for _, a := range imagebuild.BusyboxApplets {
		have[a] = true
	}
	for _, a := range extraApplets {
		if !have[a] {
			files = append(files, imagebuild.File{Path: "/bin/" + a, Link: "busybox"})
		}
	}
	return append(files,
		imagebuild.File{Path: "/var/www", Dir: true},
		imagebuild.File{Path: "/etc/init.d", Dir: true},
		imagebuild.File{Path: "/run", Dir: true},
		imagebuild.File{Path: "/var/run", Link: "/run"},
	)
}

// commonEnv is every image's environment.
var commonEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
}
