package api

import (
	"testing"
)

const dockerHubPush = `{"callback_url":"https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
 "push_data":{"pushed_at":1417566161,"pusher":"trustedbuilder","tag":"latest"},
 "repository":{"comment_count":0,"date_created":1417494799,"description":"","dockerfile":"","full_description":"",
  "is_official":false,"is_private":true,"is_trusted":true,"name":"testhook","namespace":"svendowideit","owner":"svendowideit",
  "repo_name":"svendowideit/testhook","repo_url":"https://registry.hub.docker.com/u/svendowideit/testhook/","star_count":0,"status":"Active"}}`

func TestDecodeDockerHub(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		registry string
		want     Push
		err      bool
	}{
		{name: "push", body: dockerHubPush, registry: "docker.io",
			want: Push{Registry: "docker.io", Repository: "svendowideit/testhook", Tag: "latest"}},
		{name: "mirror", body: `{"push_data":{"tag":"1.0"},"repository":{"repo_name":"team/app"}}`, registry: "127.0.0.1:5000",
			want: Push{Registry: "127.0.0.1:5000", Repository: "team/app", Tag: "1.0"}},
		{name: "no tag means latest", body: `{"push_data":{},"repository":{"repo_name":"team/app"}}`, registry: "docker.io",
			want: Push{Registry: "docker.io", Repository: "team/app", Tag: "latest"}},
		{name: "no push_data", body: `{"repository":{"repo_name":"team/app"}}`, registry: "docker.io", err: true},
		{name: "no repository", body: `{"push_data":{"tag":"1"}}`, registry: "docker.io", err: true},
		{name: "bad repository", body: `{"push_data":{"tag":"1"},"repository":{"repo_name":"Team/App"}}`, registry: "docker.io", err: true},
		{name: "bad tag", body: `{"push_data":{"tag":"a:b"},"repository":{"repo_name":"team/app"}}`, registry: "docker.io", err: true},
		{name: "not JSON", body: `<xml/>`, registry: "docker.io", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeDockerHub([]byte(tt.body), tt.registry)
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzDockerHub(f *testing.F) {
	f.Add([]byte(dockerHubPush))
	f.Add([]byte(`{"push_data":{"tag":""},"repository":{"repo_name":"a"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodeDockerHub(body, "docker.io")
		if err != nil {
			return
		}
		if p.Tag == "" || p.Digest != "" || p.validate(false) != nil {
			t.Fatalf("decoded %+v", p)
		}
		if _, err := parseRef(p.Ref(), nil); err != nil {
			t.Fatalf("push %+v makes an unparsable reference %q: %v", p, p.Ref(), err)
		}
	})
}
