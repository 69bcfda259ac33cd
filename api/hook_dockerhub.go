package api

import (
	"bytes"
	"encoding/json"
)

type dockerHubEvent struct {
	PushData *struct {
		Tag string `json:"tag"`
	} `json:"push_data"`
	Repository *struct {
		RepoName string `json:"repo_name"`
	} `json:"repository"`
}

// DecodeDockerHub reads a Docker Hub push webhook. Docker Hub sends a tag
// and no digest, so the Push has none: the caller resolves the tag.
// registry is where the repository lives (docker.io, or a mirror).
func DecodeDockerHub(body []byte, registry string) (Push, error) {
	var ev dockerHubEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return Push{}, malformed("%v", err)
	}
	if dec.More() {
		return Push{}, malformed("data after the event")
	}
	if ev.PushData == nil || ev.Repository == nil {
		return Push{}, malformed("not a push: no push_data or repository")
	}
	tag := ev.PushData.Tag
	if tag == "" {
		tag = "latest"
	}
	p := Push{Registry: registry, Repository: ev.Repository.RepoName, Tag: tag}
	if err := p.validate(false); err != nil {
		return Push{}, err
	}
	return p, nil
}
