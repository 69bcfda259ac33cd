package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/sandscan/sandscan/api"
	"github.com/sandscan/sandscan/internal/imagebuild"
)

// BenchmarkServeBurst is the service's load test: a burst of distinct
// small busybox images uploaded at once through the API on loopback to
// `sandscan serve` with its workers. Every submission must be accepted,
// or refused with 429 and a Retry-After that the client then honours;
// none may be lost, and every analysis must finish. It reports analyses
// per minute from the first upload to the last verdict, and the 429s.
//
// SANDSCAN_BURST sets the burst (default 1000) and SANDSCAN_BURST_WORKERS
// the worker counts to compare (default the serve default, 2), e.g.
// SANDSCAN_BURST_WORKERS=1,2,3. The queue limit is set to 200 so that the
// burst meets back-pressure.
func BenchmarkServeBurst(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("SANDSCAN_BURST")); err == nil && v > 0 {
		n = v
	}
	counts := []int{defaultWorkers}
	if v := os.Getenv("SANDSCAN_BURST_WORKERS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			w, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || w < 1 {
				b.Fatalf("SANDSCAN_BURST_WORKERS=%q", v)
			}
			counts = append(counts, w)
		}
	}
	base := busyboxLayer(b)
	for _, w := range counts {
		b.Run(fmt.Sprintf("images=%d/workers=%d", n, w), func(b *testing.B) {
			archives := burstImages(b, base, n, fmt.Sprintf("w%d-%d", w, time.Now().UnixNano()))
			s := startServe(b, "--workers", strconv.Itoa(w), "--max-queued", "200", "--retry-after", "1s", "--max-uploads", "8")
			b.ResetTimer()
			start := time.Now()
			ids, refused := burst(b, s, archives, 32)
			submitted := time.Since(start)
			for _, id := range ids {
				waitDone(b, s, id)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(n)/elapsed.Minutes(), "analyses/min")
			b.ReportMetric(float64(refused), "429s")
			b.ReportMetric(submitted.Seconds(), "s-to-submit-all")
			s.stop()
		})
	}
}

// busyboxLayer is the shared base layer, built once.
func busyboxLayer(b *testing.B) v1.Layer {
	img, err := imagebuild.Build(context.Background(), imagebuild.Spec{Name: "base", Files: imagebuild.BusyboxBase("/bin/busybox"),
		Config: imagebuild.Config{Entrypoint: []string{"/bin/sh"}}})
	if err != nil {
		b.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		b.Fatalf("base layers: %d, %v", len(ls), err)
	}
	return ls[0]
}

// burstImages writes n OCI archives of distinct images on the shared base.
func burstImages(b *testing.B, base v1.Layer, n int, seed string) []string {
	dir := b.TempDir()
	out := make([]string, n)
	for i := range n {
		img, err := imagebuild.Build(context.Background(), imagebuild.Spec{
			Name:   "burst",
			Layers: []v1.Layer{base},
			Config: imagebuild.Config{
				Entrypoint: []string{"/bin/sh", "-c", "cat /etc/hostname; ls /bin > /dev/null"},
				Env:        []string{"PATH=/bin", "BURST=" + seed + "-" + strconv.Itoa(i)},
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = filepath.Join(dir, strconv.Itoa(i)+".tar")
		if err := imagebuild.WriteOCIArchive(out[i], img, "bench/burst:"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// burst uploads every archive with clients at once; a 429 must carry
// Retry-After, which the client waits before trying again. It returns the
// analysis ids and how many 429s came back.
func burst(b *testing.B, s servedAPI, archives []string, clients int) (ids []string, refused int64) {
	ids = make([]string, len(archives))
	var next, busy atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(archives) {
					return
				}
				for attempt := 0; ; attempt++ {
					id, retry, err := uploadOnce(s, archives[i])
					if err != nil {
						errs <- fmt.Errorf("image %d: %w", i, err)
						return
					}
					if retry == 0 {
						ids[i] = id
						break
					}
					busy.Add(1)
					if attempt > 600 {
						errs <- fmt.Errorf("image %d: refused %d times", i, attempt)
						return
					}
					time.Sleep(retry)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return ids, busy.Load()
}

// uploadOnce posts one archive: an id when accepted, the wait a 429 asks
// for, or an error for anything else (a 429 without Retry-After too).
func uploadOnce(s servedAPI, path string) (string, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	req, _ := http.NewRequest("POST", s.url+"/v1/analyses", f)
	req.Header.Set("Authorization", "Bearer "+serveToken)
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusAccepted:
		var a api.Analysis
		if err := jsonDecode(resp, &a); err != nil {
			return "", 0, err
		}
		return a.ID, 0, nil
	case http.StatusTooManyRequests:
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || secs < 1 {
			return "", 0, fmt.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
		}
		return "", time.Duration(secs) * time.Second, nil
	}
	return "", 0, fmt.Errorf("status %s (distinct images are never known already)", resp.Status)
}

// waitDone polls an analysis until it is done; failed or dead fails the
// benchmark.
func waitDone(b *testing.B, s servedAPI, id string) {
	for deadline := time.Now().Add(30 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var a api.Analysis
		if code := s.get(b, "/v1/analyses/"+id, &a); code != http.StatusOK {
			b.Fatalf("analysis %s: %d", id, code)
		}
		switch a.Status {
		case "done":
			return
		case "failed", "dead":
			b.Fatalf("analysis %s %s: %s", id, a.Status, a.Error)
		}
		if time.Now().After(deadline) {
			b.Fatalf("analysis %s still %s", id, a.Status)
		}
	}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
