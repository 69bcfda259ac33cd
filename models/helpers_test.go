package models

import "fmt"

// synthNames are the features of the synthetic runs the tests train on.
var synthNames = []string{"exec_total", "cpu_share", "connects", "nonstandard_ports", "credential_reads", "files_created"}

// synth makes labelled runs of three behaviours in families of five, with
// noise from a fixed stream, so tests can train quickly and know the
// answer: benign runs exec a little and connect to standard ports, miners
// burn CPU and use odd ports, thieves read credential files.
func synth(perClass int) []Sample {
	r := newRNG(42)
	noise := func(scale float64) float64 { return float64(r.intn(1000)) / 1000 * scale }
	var out []Sample
	for i := 0; i < perClass; i++ {
		g := fmt.Sprint(i / 5)
		out = append(out,
			Sample{Label: "benign", Group: "web" + g, Name: fmt.Sprintf("benign-%d", i),
				Vector: []float64{2 + noise(3), 0.1 + noise(0.2), noise(2), 0, 0, noise(4)}},
			Sample{Label: "cryptominer", Group: "miner" + g, Name: fmt.Sprintf("miner-%d", i),
				Vector: []float64{1 + noise(2), 0.9 + noise(0.1), 1 + noise(2), 1, 0, noise(1)}},
			Sample{Label: "credential_theft", Group: "thief" + g, Name: fmt.Sprintf("thief-%d", i),
				Vector: []float64{3 + noise(3), 0.1 + noise(0.2), noise(2), noise(1), 2 + noise(4), 1 + noise(2)}},
		)
	}
	return out
}
