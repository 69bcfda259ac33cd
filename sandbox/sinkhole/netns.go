package sinkhole

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// ensureNetNSDir makes dir a shared mount point, as `ip netns` does, so
// that unmounting a namespace there also unmounts the copies other mount
// namespaces (containerd's, runsc's) made of it; otherwise a copy could
// keep a dead run's namespace alive.
func ensureNetNSDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("netns dir: %w", err)
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("netns dir %s: make shared mount: %w", dir, err)
	}
	return nil
}

// createNetNS makes a new network namespace and pins it with a bind mount
// at path, which must not exist. The thread that made it is never
// returned to the Go scheduler: it ends in the new namespace, so the
// goroutine exits with the thread locked and the runtime discards it.
func createNetNS(path string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("unshare netns: %w", err)
			}
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o444)
			if err != nil {
				return fmt.Errorf("netns file: %w", err)
			}
			unix.Close(fd)
			if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
				os.Remove(path)
				return fmt.Errorf("bind netns to %s: %w", path, err)
			}
			return nil
		}()
	}()
	return <-errc
}

// deleteNetNS unpins the namespace at path; the kernel frees it when
// nothing else holds it. A missing path is not an error.
func deleteNetNS(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// inNetNS runs fn on an OS thread switched into the namespace at path and
// switches it back afterwards. Sockets fn creates stay in that namespace
// wherever they are used later. If switching back fails, the thread is
// left locked so that the runtime discards it rather than reuse it in the
// wrong namespace.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open netns: %w", err)
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter netns %s: %w", path, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leave netns %s: %w", path, err))
			return // thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// sysctls writes net sysctls (path under /proc/sys/net, value). Call it
// inside inNetNS: /proc/sys/net shows the calling thread's namespace. A
// kernel without IPv6 has no ipv6 sysctls, and nothing for them to do.
func sysctls(kv [][2]string) error {
	for _, s := range kv {
		p := filepath.Join("/proc/sys/net", s[0])
		err := os.WriteFile(p, []byte(s[1]), 0o644)
		if errors.Is(err, os.ErrNotExist) && strings.HasPrefix(s[0], "ipv6/") {
			continue
		}
		if err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(s[0], "/", "."), s[1], err)
		}
	}
	return nil
}

// readSysctl reads one net sysctl, trimmed.
func readSysctl(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys/net", name))
	return strings.TrimSpace(string(b)), err
}
