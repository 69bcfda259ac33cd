package setup

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// disabledPlugins keeps the daemon to what Sandscan uses. CRI would listen
// for Kubernetes and NRI would take /var/run/nri/nri.sock, which belongs to
// the machine's containerd if it has one. Names a release does not have are
// ignored by it.
var disabledPlugins = []string{
	"io.containerd.grpc.v1.cri",
	"io.containerd.cri.v1.images",
	"io.containerd.cri.v1.runtime",
	"io.containerd.podsandbox.controller.v1.podsandbox",
	"io.containerd.nri.v1.nri",
}

// containerdConfig renders the daemon's config for a containerd release.
// Every path containerd would otherwise take from its defaults (/var/lib,
// /run/containerd, /opt/containerd, /etc/containerd/conf.d) is pointed into
// the state dir or turned off, so the daemon never meets another one.
func containerdConfig(env *Env, containerdVersion string) ([]byte, error) {
	ver, err := configVersion(containerdVersion)
	if err != nil {
		return nil, err
	}
	ctrd := filepath.Dir(env.Address)
	var b strings.Builder
	var bad error
	q := func(s string) string {
		out, err := tomlString(s)
		if err != nil && bad == nil {
			bad = err
		}
		return out
	}
	fmt.Fprintf(&b, "# Written by sandscan setup for containerd %s; rewritten when it differs.\n", containerdVersion)
	fmt.Fprintf(&b, "version = %d\n", ver)
	fmt.Fprintf(&b, "root = %s\n", q(filepath.Join(ctrd, "root")))
	fmt.Fprintf(&b, "state = %s\n", q(filepath.Join(ctrd, "state")))
	b.WriteString("imports = []\n")
	b.WriteString("disabled_plugins = [")
	for i, p := range disabledPlugins {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(p))
	}
	b.WriteString("]\n")
	b.WriteString("oom_score = 0\n")
	fmt.Fprintf(&b, "\n[grpc]\n  address = %s\n", q(env.Address))
	fmt.Fprintf(&b, "\n[ttrpc]\n  address = %s\n", q(env.TTRPCAddress))
	b.WriteString("\n[debug]\n  address = \"\"\n")
	b.WriteString("\n[metrics]\n  address = \"\"\n")
	fmt.Fprintf(&b, "\n[plugins.%s]\n  path = %s\n", q("io.containerd.internal.v1.opt"), q(filepath.Join(ctrd, "opt")))
	if env.ShimSocketDir != "" {
		fmt.Fprintf(&b, "\n[plugins.%s]\n  socket_dir = %s\n", q("io.containerd.shim.v1.manager"), q(env.ShimSocketDir))
	}
	if bad != nil {
		return nil, bad
	}
	return []byte(b.String()), nil
}

// shimSocketDirSupported says whether a containerd release reads the shim
// manager's socket_dir (verified with 2.4.2; older ones ignore it and use
// /run/containerd/s).
func shimSocketDirSupported(containerdVersion string) bool {
	v, ok := versionCore(containerdVersion)
	return ok && v.atLeast(2, 4)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("setup: %q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
