package analyzer

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/analyzer/attack"
)

// TestRuleTechniquesAreCurrentATTACK checks every technique id a rule can
// emit against ATT&CK's own list (shared/ beside the checkout): it exists,
// is neither revoked nor deprecated, and is in the embedded table.
func TestRuleTechniquesAreCurrentATTACK(t *testing.T) {
	b, err := os.ReadFile("../../shared/attack/enterprise-techniques.json")
	if err != nil {
		t.Fatalf("read ATT&CK list: %v", err)
	}
	var doc struct {
		Techniques []struct {
			ID         string   `json:"id"`
			Name       string   `json:"name"`
			Tactics    []string `json:"tactics"`
			Deprecated bool     `json:"deprecated"`
			Revoked    bool     `json:"revoked"`
		} `json:"techniques"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name    string
		current bool
		tactics []string
	}
	shared := map[string]entry{}
	for _, x := range doc.Techniques {
		shared[x.ID] = entry{x.Name, !x.Revoked && !x.Deprecated, x.Tactics}
	}
	techs, tactics := map[string]bool{}, map[string]bool{}
	for _, r := range Rules() {
		for _, id := range r.Techniques {
			s, ok := shared[id]
			switch {
			case !ok:
				t.Errorf("rule %s: %s is not an ATT&CK technique", r.ID, id)
			case !s.current:
				t.Errorf("rule %s: %s is revoked or deprecated", r.ID, id)
			}
			if _, ok := attack.Lookup(id); !ok {
				t.Errorf("rule %s: %s missing from the embedded table", r.ID, id)
			}
			techs[id] = true
			for _, tc := range s.tactics {
				tactics[tc] = true
			}
		}
	}
	if len(techs) < 60 {
		t.Errorf("rules cover %d techniques, want at least 60", len(techs))
	}
	if len(tactics) < 10 {
		t.Errorf("rules cover %d tactics, want at least 10", len(tactics))
	}
	// The embedded table holds exactly what the rules use.
	for _, tech := range attack.All() {
		if !techs[tech.ID] {
			t.Errorf("embedded table has %s, which no rule emits", tech.ID)
		}
	}
	t.Logf("%d techniques across %d tactics", len(techs), len(tactics))
}

// TestRulesAreWellFormed checks the typed data of every rule.
func TestRulesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		switch {
		case seen[r.ID]:
			t.Errorf("duplicate rule id %s", r.ID)
		case r.Title == "" || r.Description == "" || r.Match == nil:
			t.Errorf("rule %s: title, description and match are required", r.ID)
		case len(r.Techniques) == 0:
			t.Errorf("rule %s: no techniques", r.ID)
		case r.Confidence <= 0 || r.Confidence > 1:
			t.Errorf("rule %s: confidence %v out of (0,1]", r.ID, r.Confidence)
		case r.Severity < SeverityLow || r.Severity > SeverityCritical:
			t.Errorf("rule %s: severity %v", r.ID, r.Severity)
		case !strings.Contains(r.ID, "."):
			t.Errorf("rule %s: id should be family.name", r.ID)
		}
		seen[r.ID] = true
	}
}

// TestEveryRuleHasTableCases makes sure each rule's table test has at
// least one case that must match.
func TestEveryRuleHasTableCases(t *testing.T) {
	src := ""
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "rules_") && strings.HasSuffix(e.Name(), "_test.go") {
			b, _ := os.ReadFile(e.Name())
			src += string(b)
		}
	}
	for _, r := range Rules() {
		if !strings.Contains(src, `rule: "`+r.ID+`", want: true`) {
			t.Errorf("rule %s has no matching case in its table test", r.ID)
		}
	}
}
