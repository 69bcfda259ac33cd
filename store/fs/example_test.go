package fs_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/fs"
)

// A worker stores an analysis's report under its stable key and records
// the image's verdict; the API reads the latest verdict back.
func Example() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	s, err := fs.Open(dir)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	digest := "sha256:" + strings.Repeat("ab", 32)

	key, _ := store.AnalysisKey("01jexample", store.ArtifactReport)
	if err := store.PutJSON(ctx, s, key, map[string]string{"schema": "sandscan.report/v1"}); err != nil {
		panic(err)
	}
	err = store.PutVerdict(ctx, s, store.Verdict{
		Digest: digest, Analysis: "01jexample", Verdict: "malicious", Score: 0.97,
		Techniques: []string{"T1496"}, Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	v, _ := store.LatestVerdict(ctx, s, digest)
	fmt.Println(key)
	fmt.Println(v.Verdict, v.Techniques)
	// Output:
	// analyses/01jexample/report.json
	// malicious [T1496]
}
