package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestSampleVerdicts detonates every sample image through `sandscan
// analyze` (real containerd, runsc and sinkhole) and checks its verdict
// and the techniques that name its behaviour.
func TestSampleVerdicts(t *testing.T) {
	tests := []struct {
		image string
		// verdicts lists the acceptable verdicts (resource abuse sits
		// between suspicious and malicious by policy).
		verdicts   []string
		techniques []string
		// anyOf: at least one of these must be reported too.
		anyOf []string
	}{
		{"benign-web", []string{"clean"}, nil, nil},
		{"benign-batch", []string{"clean"}, nil, nil},
		{"sleeper", []string{"clean"}, nil, nil},
		{"miner", []string{"malicious"}, []string{"T1496"}, nil},
		{"revshell", []string{"malicious"}, []string{"T1059.004"}, []string{"T1095", "T1071"}},
		{"credtheft", []string{"malicious"}, []string{"T1003.008", "T1552.001", "T1552.004"}, []string{"T1041", "T1048", "T1048.003"}},
		{"persistence", []string{"malicious"}, []string{"T1053.003", "T1098.004", "T1574.006", "T1546.004"}, nil},
		{"dropper", []string{"malicious"}, []string{"T1105"}, nil},
		{"escape", []string{"malicious"}, []string{"T1611"}, nil},
		{"busybox-script", []string{"malicious"}, []string{"T1105", "T1053.003", "T1003.008"}, nil},
		{"recon", []string{"suspicious", "malicious"}, []string{"T1046"}, nil},
		{"forkbomb", []string{"suspicious", "malicious"}, []string{"T1499"}, nil},
		{"membomb", []string{"suspicious", "malicious"}, []string{"T1499"}, nil},
		{"outputflood", []string{"suspicious", "malicious"}, []string{"T1499"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			code, stdout, stderr := sandscan(t, "analyze", "--format", "json", "--timeout", "10s",
				"oci-archive:../../testdata/images/"+tt.image+".tar")
			if code >= ExitError {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep struct {
				Verdict    string  `json:"verdict"`
				Score      float64 `json:"score"`
				Techniques []struct {
					ID       string   `json:"id"`
					Findings []string `json:"findings"`
				} `json:"techniques"`
				Findings []struct {
					ID          string   `json:"id"`
					Techniques  []string `json:"techniques"`
					Connections []struct {
						Host    string `json:"host"`
						Stratum *struct {
							Wallet string `json:"wallet"`
						} `json:"stratum"`
					} `json:"connections"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			var got []string
			findings := map[string]bool{}
			for _, f := range rep.Findings {
				findings[f.ID] = true
			}
			for _, tech := range rep.Techniques {
				got = append(got, tech.ID)
				for _, f := range tech.Findings {
					if !findings[f] {
						t.Errorf("technique %s points to missing finding %s", tech.ID, f)
					}
				}
			}
			if !slices.Contains(tt.verdicts, rep.Verdict) {
				t.Errorf("verdict %s (score %.2f), want %v; techniques %v", rep.Verdict, rep.Score, tt.verdicts, got)
			}
			if tt.verdicts[0] == "clean" && len(got) > 0 {
				t.Errorf("benign image reported techniques %v", got)
			}
			for _, want := range tt.techniques {
				if !slices.Contains(got, want) {
					t.Errorf("missing %s; got %v", want, got)
				}
			}
			if len(tt.anyOf) > 0 && !slices.ContainsFunc(got, func(id string) bool { return slices.Contains(tt.anyOf, id) }) {
				t.Errorf("none of %v reported; got %s", tt.anyOf, strings.Join(got, ","))
			}
			if tt.image == "miner" {
				// The acceptance line of the sinkhole: T1496 with the
				// pool's host name and the wallet in its evidence.
				found := false
				for _, f := range rep.Findings {
					for _, c := range f.Connections {
						if slices.Contains(f.Techniques, "T1496") && strings.HasSuffix(c.Host, ".example") && c.Stratum != nil && c.Stratum.Wallet != "" {
							found = true
						}
					}
				}
				if !found {
					t.Errorf("no T1496 finding carries the pool host and wallet: %.2000s", stdout)
				}
			}
			wantCode := map[string]int{"clean": ExitClean, "suspicious": ExitSuspicious, "malicious": ExitMalicious}[rep.Verdict]
			if code != wantCode {
				t.Errorf("exit %d for verdict %s", code, rep.Verdict)
			}
		})
	}
}
