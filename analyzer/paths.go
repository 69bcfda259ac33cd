package analyzer

import (
	"path"
	"strings"
)

// under reports whether p is one of the dirs or below it.
func under(p string, dirs ...string) bool {
	for _, d := range dirs {
		if len(d) > 1 && d[len(d)-1] == '/' {
			d = d[:len(d)-1]
		}
		if strings.HasPrefix(p, d) && (len(p) == len(d) || p[len(d)] == '/') {
			return true
		}
	}
	return false
}

// scratchDirs are world-writable places droppers favour.
var scratchDirs = []string{"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/dev/mqueue"}

// isScratch reports a path in a world-writable temp dir.
func isScratch(p string) bool { return under(p, scratchDirs...) }

// homeRel returns the part of p below a home directory (/root or
// /home/USER) and true, or "", false.
func homeRel(p string) (string, bool) {
	if rest, ok := strings.CutPrefix(p, "/root/"); ok {
		return rest, true
	}
	if rest, ok := strings.CutPrefix(p, "/home/"); ok {
		if _, r, ok := strings.Cut(rest, "/"); ok {
			return r, true
		}
	}
	return "", false
}

// isWritableLocation is where a dropped (not installed) program lives.
func isWritableLocation(p string) bool {
	if isScratch(p) {
		return true
	}
	_, home := homeRel(p)
	return home || under(p, "/run/user", "/var/run/user")
}

// systemBinDirs hold installed programs.
var systemBinDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/usr/lib", "/usr/libexec", "/lib", "/usr/local/lib"}

func isSystemBin(p string) bool { return under(p, systemBinDirs...) }

// hasDotComponent reports a hidden path component (".x") other than "." and "..".
func hiddenComponent(p string) string {
	for _, c := range strings.Split(p, "/") {
		if len(c) > 1 && c[0] == '.' && c != ".." {
			return c
		}
	}
	return ""
}

// ext returns the lower-case extension of a base name without the dot.
func ext(p string) string {
	e := path.Ext(p)
	return strings.ToLower(strings.TrimPrefix(e, "."))
}

// isProcPID reports /proc/<number>/<leaf> and returns the pid text.
func procPIDLeaf(p string) (pid, leaf string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return "", "", false
	}
	pid, leaf, ok = strings.Cut(rest, "/")
	if !ok || pid == "" {
		return "", "", false
	}
	for _, c := range pid {
		if c < '0' || c > '9' {
			if pid == "self" || pid == "thread-self" {
				return pid, leaf, true
			}
			return "", "", false
		}
	}
	return pid, leaf, true
}

// Credential and secret files, by what they hold.
var (
	shadowFiles = set("/etc/shadow", "/etc/gshadow", "/etc/master.passwd", "/etc/shadow-", "/etc/gshadow-", "/etc/security/opasswd")

	// credFileSuffixes are per-user secret stores, relative to a home.
	credHomeFiles = []string{
		".aws/credentials", ".aws/config", ".docker/config.json", ".kube/config", ".git-credentials",
		".netrc", ".pgpass", ".my.cnf", ".npmrc", ".pypirc", ".config/gcloud/credentials.db",
		".config/gcloud/access_tokens.db", ".config/gcloud/application_default_credentials.json",
		".azure/accessTokens.json", ".azure/msal_token_cache.json", ".s3cfg", ".boto", ".vault-token",
		".terraform.d/credentials.tfrc.json", ".config/gh/hosts.yml", ".gnupg/secring.gpg",
		".password-store", ".local/share/keyrings", ".ssh/id_rsa", ".ssh/id_dsa", ".ssh/id_ecdsa",
		".ssh/id_ed25519", ".ssh/id_ecdsa_sk", ".ssh/id_ed25519_sk", ".ssh/identity",
		".config/rclone/rclone.conf", ".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials",
	}
	credSystemFiles = []string{
		"/var/run/secrets/kubernetes.io/serviceaccount/token", "/run/secrets/kubernetes.io/serviceaccount/token",
		"/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/kubeconfig",
		"/etc/krb5.keytab", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
		"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_dsa_key", "/etc/docker/key.json",
		"/root/.docker/config.json",
	}
)

// credentialFile classifies a secret-holding path: "shadow", "ssh-key",
// "cloud", "k8s-token", "kerberos", "history", "browser", or "".
func credentialFile(p string) string {
	if shadowFiles[p] {
		return "shadow"
	}
	if rel, ok := homeRel(p); ok {
		switch {
		case strings.HasPrefix(rel, ".ssh/id_") && !strings.HasSuffix(rel, ".pub"), rel == ".ssh/identity":
			return "ssh-key"
		case isHistoryFile(path.Base(rel)):
			return "history"
		case strings.Contains(rel, ".mozilla/firefox/") || strings.Contains(rel, ".config/google-chrome/") ||
			strings.Contains(rel, ".config/chromium/") || strings.Contains(rel, ".config/BraveSoftware/"):
			if browserSecret(path.Base(rel)) {
				return "browser"
			}
		}
		for _, c := range credHomeFiles {
			if rel == c || strings.HasPrefix(rel, c+"/") {
				return "cloud"
			}
		}
	}
	for _, c := range credSystemFiles {
		if p == c {
			switch {
			case strings.Contains(c, "serviceaccount") || strings.Contains(c, "kube"):
				return "k8s-token"
			case strings.Contains(c, "krb5"):
				return "kerberos"
			case strings.Contains(c, "ssh_host"):
				return "ssh-key"
			}
			return "cloud"
		}
	}
	if strings.HasPrefix(p, "/tmp/krb5cc_") {
		return "kerberos"
	}
	return ""
}

func isHistoryFile(base string) bool {
	switch base {
	case ".bash_history", ".zsh_history", ".sh_history", ".ash_history", ".history", ".histfile",
		".mysql_history", ".psql_history", ".python_history", ".node_repl_history", ".rediscli_history",
		".sqlite_history", ".lesshst", ".viminfo":
		return true
	}
	return false
}

func browserSecret(base string) bool {
	switch base {
	case "logins.json", "key4.db", "key3.db", "cookies.sqlite", "Login Data", "Cookies", "Web Data",
		"signons.sqlite", "places.sqlite", "Bookmarks", "History":
		return true
	}
	return false
}

// persistenceKind names the autostart mechanism a written path belongs
// to, or "" when writing it persists nothing.
func persistenceKind(p string) string {
	base := path.Base(p)
	switch {
	case p == "/etc/crontab" || under(p, "/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily",
		"/etc/cron.weekly", "/etc/cron.monthly", "/var/spool/cron", "/var/spool/cron/crontabs", "/etc/crontabs"):
		if under(p, "/var/spool/cron/atjobs", "/var/spool/cron/atspool") {
			return "at"
		}
		return "cron"
	case under(p, "/var/spool/at", "/var/spool/atjobs"):
		return "at"
	case (under(p, "/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
		"/run/systemd/system", "/etc/systemd/user", "/usr/lib/systemd/user") ||
		strings.Contains(p, "/.config/systemd/user/")) && (strings.HasSuffix(base, ".timer")):
		return "systemd-timer"
	case under(p, "/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
		"/run/systemd/system", "/etc/systemd/user", "/usr/lib/systemd/user") ||
		strings.Contains(p, "/.config/systemd/user/"):
		return "systemd-service"
	case p == "/etc/rc.local" || under(p, "/etc/init.d", "/etc/rc.d") ||
		strings.HasPrefix(p, "/etc/rc") && strings.Contains(p, ".d/"):
		return "rc"
	case p == "/etc/ld.so.preload":
		return "preload"
	case under(p, "/etc/pam.d") || p == "/etc/pam.conf" || (strings.Contains(p, "/security/pam_") && strings.HasSuffix(p, ".so")):
		return "pam"
	case under(p, "/etc/udev/rules.d", "/lib/udev/rules.d", "/usr/lib/udev/rules.d", "/run/udev/rules.d"):
		return "udev"
	case p == "/etc/modules" || under(p, "/etc/modules-load.d", "/etc/modprobe.d"):
		return "modules"
	case p == "/etc/sudoers" || under(p, "/etc/sudoers.d"):
		return "sudoers"
	case p == "/etc/passwd" || p == "/etc/shadow" || p == "/etc/group" || p == "/etc/gshadow":
		return "account"
	case p == "/etc/profile" || under(p, "/etc/profile.d") || p == "/etc/bash.bashrc" || p == "/etc/bashrc" ||
		p == "/etc/zshrc" || p == "/etc/zsh/zshrc" || p == "/etc/zsh/zprofile" || p == "/etc/zprofile" ||
		p == "/etc/environment" || p == "/etc/bash.bash_logout" || p == "/etc/zsh/zshenv":
		return "shell-rc"
	case strings.HasSuffix(p, ".pth") && strings.Contains(p, "-packages/"),
		(base == "sitecustomize.py" || base == "usercustomize.py") && strings.Contains(p, "python"):
		return "python-hook"
	}
	if rel, ok := homeRel(p); ok {
		switch rel {
		case ".bashrc", ".bash_profile", ".bash_login", ".profile", ".bash_logout", ".zshrc", ".zprofile",
			".zshenv", ".zlogin", ".kshrc", ".cshrc", ".tcshrc", ".config/fish/config.fish", ".mkshrc":
			return "shell-rc"
		case ".ssh/authorized_keys", ".ssh/authorized_keys2":
			return "ssh-keys"
		case ".config/autostart":
			return "xdg-autostart"
		}
		if strings.HasPrefix(rel, ".config/autostart/") {
			return "xdg-autostart"
		}
	}
	if base == "authorized_keys" || base == "authorized_keys2" {
		return "ssh-keys"
	}
	return ""
}

// webRoots are where a web server looks for pages and scripts.
var webRoots = []string{"/var/www", "/srv/www", "/srv/http", "/usr/share/nginx/html", "/usr/local/apache2/htdocs",
	"/var/lib/tomcat", "/usr/local/tomcat/webapps", "/opt/lampp/htdocs", "/usr/share/httpd"}

// logFile reports a system log path.
func logFile(p string) bool {
	return under(p, "/var/log", "/var/adm", "/var/account") || p == "/var/run/utmp" || p == "/run/utmp"
}
