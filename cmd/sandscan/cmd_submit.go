package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandscan/sandscan/api"
	"github.com/sandscan/sandscan/internal/client"
)

// runSubmit is `sandscan submit IMAGE|ARCHIVE [--wait]`: an archive file
// (a path, or oci-archive:PATH / docker-archive:PATH) is uploaded, a
// reference is submitted for the server to pull. With --wait it follows
// the analysis and exits with its verdict's code.
func runSubmit(ctx context.Context, g *globals, args []string) error {
	var sf serverFlags
	fs := newFlagSet("submit")
	sf.register(fs)
	wait := fs.Bool("wait", false, "wait for the verdict and exit with its code (0 clean, 1 suspicious, 2 malicious)")
	waitFor := fs.Duration("wait-timeout", 30*time.Minute, "give up waiting after this long")
	network := fs.String("network", "", "sandbox network mode for this image: sinkhole or none (default: the workers')")
	timeout := fs.String("timeout", "", "run time limit for this image, e.g. 90s (default: the workers')")
	force := fs.Bool("force", false, "analyse again even if the image already has a verdict")
	username := fs.String("username", envOr("SANDSCAN_REGISTRY_USERNAME", ""), "registry user for the pull (password from env SANDSCAN_REGISTRY_PASSWORD)")
	output := fs.String("output", "text", "text or json")
	images, err := parseInterspersed(fs, args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(images) != 1 {
		return withCode(ExitUsage, errors.New("submit: name one image reference or archive"))
	}
	if *output != "text" && *output != "json" {
		return withCode(ExitUsage, fmt.Errorf("submit: --output %q: text or json", *output))
	}
	// A full queue is a reason to wait, not to fail.
	c, err := sf.client(client.WithBusyRetries(10, time.Minute))
	if err != nil {
		return err
	}
	var a api.Analysis
	if path, ok := archivePath(images[0]); ok {
		prog := newProgressLine(g.stderr)
		name := filepath.Base(path)
		a, err = c.Upload(ctx, path, client.UploadOptions{
			Network: *network, Timeout: *timeout, Force: *force,
			Progress: func(sent, total int64) {
				prog.show(sent == total, "uploading %s %s %.1f/%.1f MiB", name, bar(sent, total), float64(sent)/(1<<20), float64(total)/(1<<20))
			},
		})
		prog.end()
	} else {
		req := api.SubmitRequest{Image: strings.TrimPrefix(images[0], "docker://"), Network: *network, Timeout: *timeout, Force: *force}
		if *username != "" {
			req.Credentials = &api.Credentials{Username: *username, Password: os.Getenv("SANDSCAN_REGISTRY_PASSWORD")}
		}
		a, err = c.Submit(ctx, req)
	}
	if err != nil {
		return apiError(err)
	}
	if !*wait {
		return printAnalysis(g.stdout, *output, a)
	}
	if !client.Finished(a) {
		fmt.Fprintf(g.stderr, "sandscan: analysis %s %s\n", a.ID, a.Status)
	}
	wctx, cancel := context.WithTimeout(ctx, *waitFor)
	defer cancel()
	prog := newProgressLine(g.stderr)
	start := time.Now()
	a, err = c.Wait(wctx, a.ID, client.WaitOptions{OnPoll: func(p api.Analysis) {
		prog.show(true, "waiting for %s: %s, %s", p.ID, p.Status, time.Since(start).Round(time.Second))
	}})
	prog.end()
	if err != nil {
		return fmt.Errorf("submit: waiting for %s: %w", a.ID, err)
	}
	if err := printAnalysis(g.stdout, *output, a); err != nil {
		return err
	}
	return verdictExit(a)
}

// archivePath says whether arg names an archive to upload: an
// oci-archive: or docker-archive: source, or a file that exists.
func archivePath(arg string) (string, bool) {
	for _, p := range []string{"oci-archive:", "docker-archive:"} {
		if rest, ok := strings.CutPrefix(arg, p); ok {
			return rest, true
		}
	}
	if fi, err := os.Stat(arg); err == nil && fi.Mode().IsRegular() {
		return arg, true
	}
	return "", false
}
