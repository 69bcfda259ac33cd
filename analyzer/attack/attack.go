package attack

import (
	"sort"
	"strings"
)

// Technique is one ATT&CK Enterprise technique or sub-technique.
type Technique struct {
	// ID is the v18 id, as ATT&CK writes it (T1053.003).
	ID   string
	Name string
	// Tactics are v18 tactic short names in kill-chain order.
	Tactics []string
	// V19 is the id ATT&CK v19 gave the technique when it differs.
	V19 string
}

// Tactics lists Enterprise tactic short names in kill-chain order.
var Tactics = []string{
	"reconnaissance", "resource-development", "initial-access", "execution",
	"persistence", "privilege-escalation", "defense-evasion", "credential-access",
	"discovery", "lateral-movement", "collection", "command-and-control",
	"exfiltration", "impact",
}

var byID = func() map[string]Technique {
	m := make(map[string]Technique, len(techniques))
	for _, t := range techniques {
		m[t.ID] = t
	}
	return m
}()

// Lookup returns the technique with the given v18 id.
func Lookup(id string) (Technique, bool) {
	t, ok := byID[id]
	return t, ok
}

// All returns every technique of the table, sorted by id.
func All() []Technique {
	out := append([]Technique(nil), techniques...)
	sort.Slice(out, func(i, j int) bool { return Less(out[i].ID, out[j].ID) })
	return out
}

// Parent returns the technique id of a sub-technique ("T1053" for
// "T1053.003") and the id itself otherwise.
func Parent(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// Less orders technique ids numerically: T1003 < T1003.007 < T1003.008 < T1005.
func Less(a, b string) bool {
	pa, sa := split(a)
	pb, sb := split(b)
	if pa != pb {
		return pa < pb
	}
	return sa < sb
}

func split(id string) (int, int) {
	id = strings.TrimPrefix(id, "T")
	p, s, _ := strings.Cut(id, ".")
	return atoi(p), atoi(s)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TacticIndex is the kill-chain position of a tactic, len(Tactics) if unknown.
func TacticIndex(tactic string) int {
	for i, t := range Tactics {
		if t == tactic {
			return i
		}
	}
	return len(Tactics)
}
