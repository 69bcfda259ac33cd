package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// distributionBody is a notification as registry 2.8 sends for a tagged
// manifest push, preceded by a blob push and followed by a pull.
func distributionBody(t testing.TB, host, repo, tag, digest string) string {
	t.Helper()
	return fmt.Sprintf(`{"events":[
 {"id":"e0","timestamp":"2026-01-02T15:04:05Z","action":"push",
  "target":{"mediaType":"application/octet-stream","digest":"sha256:%[5]s","size":10,"repository":%[2]q,"url":"http://%[1]s/v2/%[2]s/blobs/sha256:%[5]s"},
  "request":{"id":"r0","addr":"127.0.0.1:40000","host":%[1]q,"method":"PUT","useragent":"skopeo/1.9.3"}},
 {"id":"e1","timestamp":"2026-01-02T15:04:06Z","action":"push",
  "target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%[4]q,"size":349,"length":349,"repository":%[2]q,
            "url":"http://%[1]s/v2/%[2]s/manifests/%[4]s","tag":%[3]q},
  "request":{"id":"r1","addr":"127.0.0.1:40000","host":%[1]q,"method":"PUT","useragent":"skopeo/1.9.3"},
  "actor":{"name":"ci"},"source":{"addr":"registry:5000","instanceID":"x"}},
 {"id":"e2","timestamp":"2026-01-02T15:04:07Z","action":"pull",
  "target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%[4]q,"repository":%[2]q,"url":"http://%[1]s/v2/%[2]s/manifests/%[4]s","tag":%[3]q},
  "request":{"host":%[1]q,"method":"GET"}}
]}`, host, repo, tag, digest, strings.Repeat("b", 64))
}

func TestDecodeDistribution(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name    string
		body    string
		want    []Push
		ignored int
		err     bool
	}{
		{
			name:    "registry 2.8 push of a tag",
			body:    distributionBody(t, "127.0.0.1:5000", "team/app", "1", d),
			want:    []Push{{Registry: "127.0.0.1:5000", Repository: "team/app", Tag: "1", Digest: d, MediaType: "application/vnd.oci.image.manifest.v1+json"}},
			ignored: 2,
		},
		{
			name: "v3 envelope, an index, host from the request when the url has none",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"` + d +
				`","repository":"a/b","tag":"v2"},"request":{"host":"reg.example.com"}}]}`,
			want: []Push{{Registry: "reg.example.com", Repository: "a/b", Tag: "v2", Digest: d, MediaType: "application/vnd.oci.image.index.v1+json"}},
		},
		{
			name: "docker schema 2 manifest",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"` + d +
				`","repository":"x","url":"https://reg:443/v2/x/manifests/` + d + `","tag":"latest"}}]}`,
			want: []Push{{Registry: "reg:443", Repository: "x", Tag: "latest", Digest: d, MediaType: "application/vnd.docker.distribution.manifest.v2+json"}},
		},
		{
			name: "untagged push (a platform manifest ahead of its index)",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d +
				`","repository":"x","url":"http://r/v2/x/manifests/` + d + `"}}]}`,
			ignored: 1,
		},
		{
			name:    "schema 1 and deletes ignored",
			body:    `{"events":[{"action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","digest":"` + d + `","repository":"x","tag":"1"}},{"action":"delete","target":{"digest":"` + d + `","repository":"x"}}]}`,
			ignored: 2,
		},
		{name: "no events at all", body: `{"events":[]}`},
		{name: "not JSON", body: `events: []`, err: true},
		{name: "no events key", body: `{"type":"PUSH_ARTIFACT"}`, err: true},
		{name: "events not a list", body: `{"events":{}}`, err: true},
		{name: "trailing data", body: `{"events":[]} {}`, err: true},
		{
			name: "bad digest in a push",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:xyz","repository":"x","url":"http://r/v2/","tag":"1"}}]}`,
			err:  true,
		},
		{
			name: "bad repository in a push",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d + `","repository":"../Etc","url":"http://r/v2/","tag":"1"}}]}`,
			err:  true,
		},
		{
			name: "bad tag in a push",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d + `","repository":"x","url":"http://r/v2/","tag":"-a b"}}]}`,
			err:  true,
		},
		{
			name: "no host anywhere",
			body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d + `","repository":"x","tag":"1"}}]}`,
			err:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ignored, err := DecodeDistribution([]byte(tt.body))
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) || ignored != tt.ignored {
				t.Errorf("got %+v ignored %d, want %+v ignored %d", got, ignored, tt.want, tt.ignored)
			}
		})
	}
}

func FuzzDistribution(f *testing.F) {
	f.Add([]byte(distributionBody(f, "127.0.0.1:5000", "team/app", "1", "sha256:"+strings.Repeat("a", 64))))
	f.Add([]byte(`{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:00","repository":"a/b","tag":"v"},"request":{"host":"h"}}]}`))
	f.Add([]byte(`{"events":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		pushes, ignored, err := DecodeDistribution(body)
		if err != nil {
			if pushes != nil || ignored != 0 {
				t.Fatal("an error with results")
			}
			return
		}
		for _, p := range pushes {
			// Whatever comes out is safe to queue and to name.
			if err := p.validate(true); err != nil || p.Tag == "" {
				t.Fatalf("decoded an invalid push %+v: %v", p, err)
			}
			if _, err := parseRef(p.Ref(), nil); err != nil {
				t.Fatalf("push %+v makes an unparsable reference %q: %v", p, p.Ref(), err)
			}
		}
	})
}
