package api

import (
	"bytes"
	"encoding/json"
)

// Harbor's event types for a push, in its two payload formats.
const (
	HarborPushArtifact = "PUSH_ARTIFACT"          // default format
	HarborCloudPushed  = "harbor.artifact.pushed" // CloudEvents format (Harbor 2.8+)
)

// harborEvent reads both formats at once: the default one's event_data
// and the CloudEvents one's data hold the same resources and repository.
type harborEvent struct {
	SpecVersion string           `json:"specversion"`
	Type        string           `json:"type"`
	EventData   *harborEventData `json:"event_data"`
	Data        *harborEventData `json:"data"`
}

type harborEventData struct {
	Resources []struct {
		Digest      string `json:"digest"`
		Tag         string `json:"tag"`
		ResourceURL string `json:"resource_url"`
	} `json:"resources"`
	Repository struct {
		Name         string `json:"name"`
		Namespace    string `json:"namespace"`
		RepoFullName string `json:"repo_full_name"`
	} `json:"repository"`
}

// DecodeHarbor reads a Harbor webhook in the default or the CloudEvents
// format and returns the artifacts pushed; any other event type is
// ignored (ignored = 1). A push without resources, or with bad ones, is an
// error.
func DecodeHarbor(body []byte) (pushes []Push, ignored int, err error) {
	var ev harborEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return nil, 0, malformed("%v", err)
	}
	if dec.More() {
		return nil, 0, malformed("data after the event")
	}
	if ev.Type == "" {
		return nil, 0, malformed("no event type")
	}
	data := ev.EventData
	if ev.SpecVersion != "" {
		if ev.Type != HarborCloudPushed {
			return nil, 1, nil
		}
		data = ev.Data
	} else if ev.Type != HarborPushArtifact {
		return nil, 1, nil
	}
	if data == nil || len(data.Resources) == 0 {
		return nil, 0, malformed("a push without resources")
	}
	if len(data.Resources) > maxHookEvents {
		return nil, 0, malformed("%d resources, at most %d", len(data.Resources), maxHookEvents)
	}
	for _, res := range data.Resources {
		registry, repo, tag, digest, err := splitResourceURL(res.ResourceURL)
		if err != nil {
			return nil, 0, err
		}
		if full := data.Repository.RepoFullName; full != "" {
			repo = full
		}
		if res.Tag != "" {
			tag = res.Tag
		}
		if res.Digest != "" {
			digest = res.Digest
		}
		p := Push{Registry: registry, Repository: repo, Tag: tag, Digest: digest}
		if err := p.validate(true); err != nil {
			return nil, 0, err
		}
		pushes = append(pushes, p)
	}
	return pushes, 0, nil
}
