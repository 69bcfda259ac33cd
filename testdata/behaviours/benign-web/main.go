// Command benign-web imitates an ordinary web service: it serves HTTP on a
// loopback port for a couple of seconds, polls its own health endpoint
// like a readiness probe would, and exits 0.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

func main() {
	guard.Require("benign-web")
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benign-web: listen:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<h1>hello</h1>\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)

	client := &http.Client{Timeout: 2 * time.Second}
	for i := range 5 {
		path := "/healthz"
		if i%2 == 1 {
			path = "/"
		}
		resp, err := client.Get("http://127.0.0.1:8080" + path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benign-web: request:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("benign-web: GET %s -> %d %q\n", path, resp.StatusCode, body)
		time.Sleep(300 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	fmt.Println("benign-web: done")
}
