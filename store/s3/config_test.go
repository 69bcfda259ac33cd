package s3

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		EnvEndpoint: "minio:9000", EnvBucket: "b", EnvAccessKey: "ak", EnvSecretKey: "sk",
		EnvRegion: "eu-1", EnvTLS: "false", EnvCAFile: "/ca.pem",
	}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := Config{"minio:9000", "b", "ak", "sk", "eu-1", false, "/ca.pem"}
	if c != want {
		t.Fatalf("got %+v", c)
	}
	if c, _ := FromEnv(func(string) string { return "" }); !c.TLS {
		t.Error("TLS off by default")
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{EnvTLS: "maybe"}[k] }); err == nil {
		t.Error("SANDSCAN_S3_TLS=maybe accepted")
	}
}

func TestFlags(t *testing.T) {
	c := Config{Endpoint: "from-env:9000", TLS: true}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-s3-bucket=flagged", "-s3-tls=false"}); err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "from-env:9000" || c.Bucket != "flagged" || c.TLS {
		t.Fatalf("after flags: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Endpoint: "e", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	tests := []struct {
		edit func(*Config)
		want string
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.Endpoint = "" }, EnvEndpoint},
		{func(c *Config) { c.Bucket = "" }, EnvBucket},
		{func(c *Config) { c.SecretKey = "" }, EnvSecretKey},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		err := c.Validate()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want mention of %q", c, err, tt.want)
		}
	}
	if _, err := Open(context.Background(), Config{}, nil); err == nil {
		t.Error("Open with no config succeeded")
	}
}

func TestSecretRedacted(t *testing.T) {
	c := Config{Endpoint: "e:1", Bucket: "b", AccessKey: "AKIA", SecretKey: "hunter2-very-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("open", "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("open", "config", c)
	fmt.Fprintf(&buf, "%v %+v %s", c, c, c)
	if out := buf.String(); strings.Contains(out, "hunter2") || !strings.Contains(out, "REDACTED") || !strings.Contains(out, "AKIA") {
		t.Fatalf("logged: %s", out)
	}
}

func TestTransient(t *testing.T) {
	refused := &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{refused, true},
		{fmt.Errorf("wrapped: %w", syscall.ECONNRESET), true},
		{io.ErrUnexpectedEOF, true},
		{minio.ErrorResponse{Code: "SlowDown", StatusCode: 503}, true},
		{minio.ErrorResponse{Code: "XMinioServerNotInitialized", StatusCode: 503}, true},
		{minio.ErrorResponse{Code: "InternalError", StatusCode: 500}, true},
		{minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404}, false},
		{minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, false},
		{minio.ErrorResponse{Code: "SignatureDoesNotMatch", StatusCode: 403}, false},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{errors.New("something else"), false},
	}
	for _, tt := range tests {
		if got := transient(tt.err); got != tt.want {
			t.Errorf("transient(%v) = %v", tt.err, got)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"analyses/x/run.json.gz":     "application/gzip",
		"analyses/x/report.json":     "application/json",
		"analyses/x/report.sarif":    "application/sarif+json",
		"images/sha256/ab.tar":       "application/x-tar",
		"analyses/x/stdout":          "text/plain; charset=utf-8",
		"analyses/x/files/%2Ftmp%2F": "application/octet-stream",
	}
	for key, want := range tests {
		if got := contentType(key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
}
