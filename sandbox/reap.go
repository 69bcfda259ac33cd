package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/sandscan/sandscan/sandbox/sinkhole"
)

// ownerLabel marks each container with the process that made it, as
// "pid:starttime", so a later process can tell a live owner from a dead
// one even when the pid has been reused.
const ownerLabel = "io.sandscan.owner"

// selfOwner is this process's owner label value.
var selfOwner = ownerOf(os.Getpid())

// ownerOf reads a process's start time (field 22 of /proc/PID/stat).
func ownerOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; fields after it don't.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return ""
	}
	return strconv.Itoa(pid) + ":" + fields[19]
}

// ownerAlive reports whether the process an owner label names still runs.
func ownerAlive(owner string) bool {
	pidStr, _, ok := strings.Cut(owner, ":")
	pid, err := strconv.Atoi(pidStr)
	if !ok || err != nil {
		return false
	}
	return ownerOf(pid) == owner
}

// Reap removes the containers, tasks, snapshots and per-run files left by
// Sandscan processes that died mid-run (a killed worker). Containers of
// live processes are not touched. It returns the ids it removed.
func (s *Sandbox) Reap(ctx context.Context) ([]string, error) {
	ctx = s.withNamespace(ctx)
	cs, err := s.client.Containers(ctx, "labels."+ownerLabel)
	if err != nil {
		return nil, fmt.Errorf("%w: list containers: %w", ErrSandbox, err)
	}
	var reaped []string
	var errs []error
	for _, c := range cs {
		labels, err := c.Labels(ctx)
		if err != nil || ownerAlive(labels[ownerLabel]) {
			continue
		}
		if err := s.remove(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("reap %s: %w", c.ID(), err))
			continue
		}
		reaped = append(reaped, c.ID())
	}
	return reaped, errors.Join(errs...)
}

func (s *Sandbox) remove(ctx context.Context, c containerd.Container) error {
	if task, err := c.Task(ctx, nil); err == nil {
		if err := deleteTask(ctx, task); err != nil {
			return err
		}
	} else if !errdefs.IsNotFound(err) {
		return err
	}
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	os.Remove(filepath.Join(s.rt.FlagsDir, c.ID()))
	if err := removeFIFOs(s.rt.FIFODir, c.ID()); err != nil {
		return err
	}
	if err := sinkhole.Reap("", c.ID()); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(s.rt.WorkDir, c.ID()))
}

// removeFIFOs removes the stdio FIFOs of container id. containerd's cio
// puts each container's FIFOs, named "<id>-stdout" and so on, in a
// directory of a random name, which the process that made them removes;
// a killed process leaves them.
func removeFIFOs(dir, id string) error {
	subs, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		p := filepath.Join(dir, sub.Name())
		fifos, _ := filepath.Glob(filepath.Join(p, id+"-*"))
		if len(fifos) == 0 {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
