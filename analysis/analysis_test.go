package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/queue"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		mode queue.Mode
		ok   bool
	}{
		{"registry", Request{Source: FromRegistry, Ref: "127.0.0.1:5000/a:1"}, queue.ModeDetonate, true},
		{"registry without ref", Request{Source: FromRegistry}, queue.ModeDetonate, false},
		{"stored oci", Request{Source: FromStore, Format: FormatOCI}, queue.ModeDetonate, true},
		{"stored without format", Request{Source: FromStore}, queue.ModeDetonate, false},
		{"reclassify needs no format", Request{Source: FromStore, RunID: "x"}, queue.ModeReclassify, true},
		{"unknown source", Request{Source: "ftp"}, queue.ModeDetonate, false},
		{"negative timeout", Request{Source: FromRegistry, Ref: "a", Timeout: -1}, queue.ModeDetonate, false},
	}
	for _, tt := range tests {
		p, err := tt.req.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRequest(queue.Job{ID: "j", Mode: tt.mode, Payload: p})
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v is not ErrInvalid", tt.name, err)
		}
		if tt.ok && got.Source != tt.req.Source {
			t.Errorf("%s: round trip = %+v", tt.name, got)
		}
	}
	for _, bad := range []string{"", "{", `{"source": 3}`} {
		if _, err := DecodeRequest(queue.Job{ID: "j", Payload: json.RawMessage(bad)}); !errors.Is(err, ErrInvalid) {
			t.Errorf("payload %q: err = %v", bad, err)
		}
	}
}

func TestCredentialsRedacted(t *testing.T) {
	c := Credentials{Username: "bot", Password: "hunter2"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("pull", "creds", c)
	if out := b.String() + fmt.Sprint(c) + fmt.Sprintf("%v %s", c, c); strings.Contains(out, "hunter2") {
		t.Errorf("password leaked: %s", out)
	}
}

func TestDecodeResult(t *testing.T) {
	if _, ok, err := DecodeResult(queue.Status{}); ok || err != nil {
		t.Errorf("empty result: ok %v err %v", ok, err)
	}
	raw, _ := json.Marshal(Result{Verdict: "malicious", Techniques: []string{"T1496"}})
	r, ok, err := DecodeResult(queue.Status{Result: raw})
	if !ok || err != nil || r.Verdict != "malicious" || r.Techniques[0] != "T1496" {
		t.Errorf("result = %+v %v %v", r, ok, err)
	}
	if _, _, err := DecodeResult(queue.Status{Result: json.RawMessage("{")}); err == nil {
		t.Error("broken result decoded")
	}
}
