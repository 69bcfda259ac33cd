package api

import (
	"bytes"
	"encoding/json"
	"net/url"
)

// Envelope media types of CNCF Distribution notifications: v1 up to
// registry 2.8, v2 since 3.0. Both carry the same events.
const (
	DistributionEventsV1 = "application/vnd.docker.distribution.events.v1+json"
	DistributionEventsV2 = "application/vnd.docker.distribution.events.v2+json"
)

// manifestTypes are the media types of what can be run: image manifests
// and indexes. Blobs, and schema 1 manifests no runtime pulls any more,
// are not images to analyse.
var manifestTypes = map[string]bool{
	"application/vnd.oci.image.manifest.v1+json":                true,
	"application/vnd.oci.image.index.v1+json":                   true,
	"application/vnd.docker.distribution.manifest.v2+json":      true,
	"application/vnd.docker.distribution.manifest.list.v2+json": true,
}

type distributionEnvelope struct {
	Events *[]distributionEvent `json:"events"`
}

type distributionEvent struct {
	Action string `json:"action"`
	Target struct {
		MediaType  string `json:"mediaType"`
		Digest     string `json:"digest"`
		Repository string `json:"repository"`
		URL        string `json:"url"`
		Tag        string `json:"tag"`
	} `json:"target"`
	Request struct {
		Host string `json:"host"`
	} `json:"request"`
}

// DecodeDistribution reads a notification envelope and returns its
// manifest pushes; ignored counts the other events (blob pushes, pulls,
// mounts, deletes). A push without a tag is ignored too: it is a
// platform manifest pushed ahead of its index (the index's tagged push
// follows) or a digest-only push nobody runs by name. A body that is not
// an envelope, or a manifest push with bad fields, is an error and
// nothing of it should be queued.
func DecodeDistribution(body []byte) (pushes []Push, ignored int, err error) {
	var env distributionEnvelope
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, 0, malformed("%v", err)
	}
	if dec.More() {
		return nil, 0, malformed("data after the envelope")
	}
	if env.Events == nil {
		return nil, 0, malformed("no events")
	}
	if len(*env.Events) > maxHookEvents {
		return nil, 0, malformed("%d events, at most %d", len(*env.Events), maxHookEvents)
	}
	for _, ev := range *env.Events {
		t := ev.Target
		if ev.Action != "push" || !manifestTypes[t.MediaType] || t.Tag == "" {
			ignored++
			continue
		}
		// The target's URL is where the registry says the manifest is,
		// as the pusher addressed it: the host to pull from.
		host := ev.Request.Host
		if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
			host = u.Host
		}
		p := Push{Registry: host, Repository: t.Repository, Tag: t.Tag, Digest: t.Digest, MediaType: t.MediaType}
		if err := p.validate(true); err != nil {
			return nil, 0, err
		}
		pushes = append(pushes, p)
	}
	return pushes, ignored, nil
}
