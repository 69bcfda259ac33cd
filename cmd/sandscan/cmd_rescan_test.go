package main

import (
	"context"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/store"
)

// TestRescanCommand rescans a local state offline: `rescan --wait` on the
// embedded queue runs the workers itself. Two stored images are
// detonated, then the malicious one is reclassified.
func TestRescanCommand(t *testing.T) {
	b := newLocalBackends(t)
	st := b.store(t)
	miner := storeSample(t, st, "miner.tar")
	batch := storeSample(t, st, "benign-batch.tar")

	code, stdout, stderr := sandscan(t, append([]string{"rescan", "--wait"}, b.flags()...)...)
	if code != 0 || !strings.Contains(stdout, "(redetonate): 2 jobs, 2 done, 0 failed") {
		t.Fatalf("rescan: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	ctx := context.Background()
	first := map[string]string{}
	for d, want := range map[string]string{miner: "malicious", batch: "clean"} {
		v, err := store.LatestVerdict(ctx, st, d)
		if err != nil || v.Verdict != want {
			t.Fatalf("verdict of %s: %+v %v, want %s", d, v, err, want)
		}
		first[d] = v.Analysis
	}

	code, stdout, stderr = sandscan(t, append([]string{"rescan", "--reclassify", "--filter", "verdict=malicious", "--wait"}, b.flags()...)...)
	if code != 0 || !strings.Contains(stdout, "(reclassify): 1 jobs, 1 done, 0 failed") {
		t.Fatalf("reclassify: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if v, _ := store.LatestVerdict(ctx, st, miner); v.Analysis == first[miner] || v.Verdict != "malicious" {
		t.Errorf("the miner's latest verdict is not the reclassification's: %+v", v)
	}
	if v, _ := store.LatestVerdict(ctx, st, batch); v.Analysis != first[batch] {
		t.Errorf("the filtered-out image was rescanned: %+v", v)
	}
	if h, err := store.VerdictHistory(ctx, st, miner, "", 10); err != nil || len(h) != 2 {
		t.Errorf("history of the miner: %d verdicts (%v), want 2", len(h), err)
	}

	// Without --wait the jobs are only queued, for workers to come.
	code, stdout, _ = sandscan(t, append([]string{"rescan", "--reclassify"}, b.flags()...)...)
	if code != 0 || !strings.Contains(stdout, "2 jobs, 0 done") {
		t.Errorf("rescan without --wait: exit %d: %s", code, stdout)
	}
}

func TestRescanCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"rescan", "--filter", "color=red"},
		{"rescan", "--filter", "verdict=evil"},
		{"rescan", "--filter", "digest=sha256:nope"},
		{"rescan", "--server", "ftp://x", "--reclassify"},
		{"rescan", "extra"},
	} {
		if code, _, stderr := sandscan(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, ExitUsage)
		}
	}
}

func TestRescanLine(t *testing.T) {
	tests := []struct {
		s    rescanState
		want string
	}{
		{rescanState{Total: 0}, "[------------------------------] 0/0 done, 0 failed, 0 running "},
		{rescanState{Total: 10, Done: 4, Dead: 1, Running: 2}, "[###############---------------] 4/10 done, 1 failed, 2 running "},
		{rescanState{Total: 3, Done: 3}, "[##############################] 3/3 done, 0 failed, 0 running "},
	}
	for _, tt := range tests {
		if got := rescanLine(tt.s); got != tt.want {
			t.Errorf("rescanLine(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
