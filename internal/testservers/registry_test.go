package testservers

import (
	"net/http"
	"testing"
)

func TestRegistry(t *testing.T) {
	addr := Registry(t)
	resp, err := http.Get("http://" + addr + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("catalog: %s", resp.Status)
	}
}
