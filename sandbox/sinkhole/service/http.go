package service

import (
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/sandscan/sandscan/trace"
)

// Content served to HTTP clients that are not fetching a program.
const (
	pageBody = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"
	// httpServer is the Server header: a common one, so nothing tells the
	// workload it talks to a sinkhole.
	httpServer = "nginx/1.22.1"
)

// serveHTTP answers one HTTP request and records it. Every response says
// Connection: close, so a client with several requests opens a connection
// (and so a record) for each.
func (ss *session) serveHTTP() {
	cfg := ss.s.cfg
	ss.wait(cfg.IdleTimeout)
	req, err := http.ReadRequest(ss.br)
	if err != nil {
		ss.c.App = AppUnknown
		return
	}
	defer req.Body.Close()
	info := &trace.HTTPInfo{
		Method:    clean(req.Method, 32),
		Host:      clean(req.Host, 255),
		Path:      clean(req.RequestURI, 2048),
		UserAgent: clean(req.UserAgent(), 512),
	}
	ss.c.App, ss.c.HTTP = AppHTTP, info
	switch {
	case req.Method == http.MethodConnect:
		// CONNECT host:port: the target is the authority, not a path.
		ss.c.App = AppHTTPProxy
		info.Host, info.Path = clean(req.RequestURI, 255), ""
	case req.URL.IsAbs():
		ss.c.App = AppHTTPProxy
		info.Host, info.Path = clean(req.URL.Host, 255), clean(req.URL.RequestURI(), 2048)
	}

	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		if ss.writeString("HTTP/1.1 100 Continue\r\n\r\n") != nil {
			return
		}
	}
	info.BodyPrefix, info.BodySize = ss.readBody(req)

	if req.Method == http.MethodConnect {
		if ss.writeString("HTTP/1.1 200 Connection established\r\n\r\n") == nil {
			ss.serveTunnel()
		}
		return
	}
	body, ctype := ss.s.payload(req.URL.Path, req.UserAgent())
	hdr := fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		httpServer, time.Now().UTC().Format(http.TimeFormat), ctype, len(body))
	out := []byte(hdr)
	if req.Method != http.MethodHead {
		out = append(out, body...)
	}
	ss.write(out)
}

// readBody reads the request's body (as far as the connection's limits
// let it) and returns its first bytes and its size.
func (ss *session) readBody(req *http.Request) (prefix []byte, size int64) {
	capN := ss.s.cfg.CaptureBytes
	var buf [8192]byte
	for {
		ss.wait(ss.s.cfg.IdleTimeout)
		n, err := req.Body.Read(buf[:])
		size += int64(n)
		if room := capN - len(prefix); room > 0 && n > 0 {
			prefix = append(prefix, buf[:min(n, room)]...)
		}
		if err != nil {
			return prefix, size
		}
	}
}

// serveTunnel is the inside of a CONNECT: TLS (the usual case) has its
// ClientHello recorded; anything else is read and dropped.
func (ss *session) serveTunnel() {
	first, _ := ss.peek(3, ss.s.cfg.BannerWait)
	if app, _ := sniff(first, ss.orig.Port()); app == AppTLS {
		ss.c.TLS = ss.readClientHello()
		ss.write(tlsAlertHandshakeFailure)
	}
}

// payload picks what a request for urlPath gets: a program for paths that
// look like downloads, so a dropper goes on to run it; a page otherwise.
// A script for script paths and for a shell-like fetcher asking for a
// directory (curl ... | sh), an ELF for binaries and extension-less names.
func (s *Service) payload(urlPath, userAgent string) (body []byte, contentType string) {
	switch ext := strings.ToLower(path.Ext(urlPath)); ext {
	case ".sh", ".bash", ".txt", ".pl", ".cmd":
		return s.cfg.Script, "text/x-shellscript"
	case ".py":
		return s.cfg.Python, "text/x-python"
	case ".bin", ".elf", ".exe", ".so", ".out", ".run", ".x86", ".x86_64", ".amd64", ".i686", ".arm", ".arm7", ".aarch64", ".mips", ".mpsl":
		return s.cfg.ELF, "application/octet-stream"
	case "":
		if urlPath == "" || strings.HasSuffix(urlPath, "/") {
			if isFetcher(userAgent) {
				return s.cfg.Script, "text/x-shellscript"
			}
			return []byte(pageBody), "text/html"
		}
		return s.cfg.ELF, "application/octet-stream"
	}
	return []byte(pageBody), "text/html"
}

// isFetcher reports whether a User-Agent is a command-line or library
// client rather than a browser.
func isFetcher(ua string) bool {
	ua = strings.ToLower(ua)
	if ua == "" {
		return true
	}
	for _, f := range [...]string{"curl", "wget", "python", "go-http-client", "libwww", "powershell", "busybox", "aria2", "httpie", "java"} {
		if strings.Contains(ua, f) {
			return true
		}
	}
	return false
}
