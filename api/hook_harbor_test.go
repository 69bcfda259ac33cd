package api

import (
	"reflect"
	"strings"
	"testing"
)

const harborDefaultPush = `{"type":"PUSH_ARTIFACT","occur_at":1586922308,"operator":"admin",
 "event_data":{"resources":[{"digest":"sha256:8a9e00000000000000000000000000000000000000000000000000000000aaaa","tag":"latest",
   "resource_url":"hub.harbor.com/test-webhook/debian:latest"}],
  "repository":{"date_created":1586922308,"name":"debian","namespace":"test-webhook","repo_full_name":"test-webhook/debian","repo_type":"private"}}}`

const harborCloudPush = `{"specversion":"1.0","id":"4b2f89a6-548d-4c12-9993-a1f5790b97d2","requestid":"e5f4d9c1",
 "source":"/projects/2/webhook/policies/15","type":"harbor.artifact.pushed","datacontenttype":"application/json",
 "time":"2023-03-06T06:08:43Z","operator":"robot$ci",
 "data":{"resources":[{"digest":"sha256:8a9e00000000000000000000000000000000000000000000000000000000bbbb","tag":"v1.2",
   "resource_url":"harbor.example.com:8443/library/app:v1.2"}],
  "repository":{"date_created":1678082303,"name":"app","namespace":"library","repo_full_name":"library/app","repo_type":"public"}}}`

func TestDecodeHarbor(t *testing.T) {
	da := "sha256:8a9e00000000000000000000000000000000000000000000000000000000aaaa"
	db := "sha256:8a9e00000000000000000000000000000000000000000000000000000000bbbb"
	tests := []struct {
		name    string
		body    string
		want    []Push
		ignored int
		err     bool
	}{
		{name: "default format push", body: harborDefaultPush,
			want: []Push{{Registry: "hub.harbor.com", Repository: "test-webhook/debian", Tag: "latest", Digest: da}}},
		{name: "CloudEvents push", body: harborCloudPush,
			want: []Push{{Registry: "harbor.example.com:8443", Repository: "library/app", Tag: "v1.2", Digest: db}}},
		{name: "push by digest only", body: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"` + da +
			`","resource_url":"h.example/p/r@` + da + `"}],"repository":{"repo_full_name":"p/r"}}}`,
			want: []Push{{Registry: "h.example", Repository: "p/r", Digest: da}}},
		{name: "pull ignored", body: `{"type":"PULL_ARTIFACT","event_data":{"resources":[]}}`, ignored: 1},
		{name: "CloudEvents delete ignored", body: `{"specversion":"1.0","type":"harbor.artifact.deleted","data":{}}`, ignored: 1},
		{name: "scan completed ignored", body: `{"type":"SCANNING_COMPLETED","event_data":{}}`, ignored: 1},
		{name: "push without resources", body: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[]}}`, err: true},
		{name: "push without event_data", body: `{"type":"PUSH_ARTIFACT"}`, err: true},
		{name: "CloudEvents push with default-format body", body: strings.Replace(harborDefaultPush, `"type":"PUSH_ARTIFACT"`, `"specversion":"1.0","type":"harbor.artifact.pushed"`, 1), err: true},
		{name: "no type", body: `{"event_data":{}}`, err: true},
		{name: "not JSON", body: `PUSH_ARTIFACT`, err: true},
		{name: "missing digest", body: strings.Replace(harborDefaultPush, `"digest":"`+da+`",`, ``, 1), err: true},
		{name: "resource_url without registry", body: strings.Replace(harborDefaultPush, "hub.harbor.com/test-webhook/debian:latest", "debian", 1), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ignored, err := DecodeHarbor([]byte(tt.body))
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) || ignored != tt.ignored {
				t.Errorf("got %+v ignored %d, want %+v ignored %d", got, ignored, tt.want, tt.ignored)
			}
		})
	}
}

func FuzzHarbor(f *testing.F) {
	f.Add([]byte(harborDefaultPush))
	f.Add([]byte(harborCloudPush))
	f.Add([]byte(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"resource_url":"a/b:c@d"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		pushes, _, err := DecodeHarbor(body)
		if err != nil {
			return
		}
		for _, p := range pushes {
			if err := p.validate(true); err != nil {
				t.Fatalf("decoded an invalid push %+v: %v", p, err)
			}
			if _, err := parseRef(p.Ref(), nil); err != nil {
				t.Fatalf("push %+v makes an unparsable reference %q: %v", p, p.Ref(), err)
			}
		}
	})
}
