package attack

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// sharedFile is ATT&CK's own list, beside the checkout in CI.
const sharedFile = "../../../shared/attack/enterprise-techniques.json"

type sharedTechnique struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Tactics    []string `json:"tactics"`
	Deprecated bool     `json:"deprecated"`
	Revoked    bool     `json:"revoked"`
}

func loadShared(t *testing.T) map[string]sharedTechnique {
	t.Helper()
	b, err := os.ReadFile(sharedFile)
	if err != nil {
		t.Fatalf("read ATT&CK list: %v", err)
	}
	var doc struct {
		Techniques []sharedTechnique `json:"techniques"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse ATT&CK list: %v", err)
	}
	m := map[string]sharedTechnique{}
	for _, x := range doc.Techniques {
		m[x.ID] = x
	}
	return m
}

// TestTableMatchesATTACK checks every embedded technique against ATT&CK
// v18.1: it exists, is current, and has the same name and tactics.
func TestTableMatchesATTACK(t *testing.T) {
	shared := loadShared(t)
	for _, tech := range techniques {
		s, ok := shared[tech.ID]
		switch {
		case !ok:
			t.Errorf("%s: not in ATT&CK", tech.ID)
			continue
		case s.Revoked || s.Deprecated:
			t.Errorf("%s: revoked=%v deprecated=%v", tech.ID, s.Revoked, s.Deprecated)
		case s.Name != tech.Name:
			t.Errorf("%s: name %q, ATT&CK says %q", tech.ID, tech.Name, s.Name)
		}
		got := slices.Sorted(slices.Values(tech.Tactics))
		want := slices.Sorted(slices.Values(s.Tactics))
		if !slices.Equal(got, want) {
			t.Errorf("%s: tactics %v, ATT&CK says %v", tech.ID, got, want)
		}
		for i := 1; i < len(tech.Tactics); i++ {
			if TacticIndex(tech.Tactics[i-1]) > TacticIndex(tech.Tactics[i]) {
				t.Errorf("%s: tactics %v not in kill-chain order", tech.ID, tech.Tactics)
			}
		}
		if p := Parent(tech.ID); p != tech.ID {
			if _, ok := shared[p]; !ok {
				t.Errorf("%s: parent %s not in ATT&CK", tech.ID, p)
			}
		}
	}
}

// TestV19Renumbering pins the ids v19 moved (shared/eval/NOTES.md).
func TestV19Renumbering(t *testing.T) {
	want := map[string]string{
		"T1562.001": "T1685", "T1070.002": "T1685.006",
		"T1562.003": "T1690", "T1562.004": "T1686",
	}
	for _, tech := range techniques {
		if tech.V19 != want[tech.ID] {
			t.Errorf("%s: V19 %q, want %q", tech.ID, tech.V19, want[tech.ID])
		}
	}
	for id := range want {
		if _, ok := Lookup(id); !ok {
			t.Errorf("%s missing from the table", id)
		}
	}
}

func TestLessAndParent(t *testing.T) {
	tests := []struct {
		a, b string
		less bool
	}{
		{"T1003", "T1003.007", true},
		{"T1003.007", "T1003.008", true},
		{"T1003.008", "T1005", true},
		{"T1059.011", "T1059.004", false},
		{"T1059", "T1059", false},
	}
	for _, tt := range tests {
		if got := Less(tt.a, tt.b); got != tt.less {
			t.Errorf("Less(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
	if Parent("T1053.003") != "T1053" || Parent("T1496") != "T1496" {
		t.Error("Parent")
	}
	all := All()
	for i := 1; i < len(all); i++ {
		if !Less(all[i-1].ID, all[i].ID) {
			t.Fatalf("All not sorted at %s, %s", all[i-1].ID, all[i].ID)
		}
	}
}
