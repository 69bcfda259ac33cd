package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// stump is a hand-made model: one tree that calls a run a cryptominer when
// cpu_share > 0.5, and one benign reference run at the origin.
func stump(t testing.TB) *Model {
	t.Helper()
	f := &file{
		Schema: Schema, Algorithm: Algorithm,
		Features: []string{"exec_total", "cpu_share"},
		Classes:  []string{"benign", "cryptominer"},
		Forest:   []tree{{{F: 1, T: 0.5, Lo: 1, Hi: 2}, {F: -1, C: []int{3, 1}}, {F: -1, C: []int{0, 4}}}},
		Anomaly:  anomaly{Scale: []float64{1, 1}, K: 1, Threshold: 1, Reference: [][]float64{{0, 0}}},
	}
	m, err := newModel(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStumpPredicts(t *testing.T) {
	m := stump(t)
	tests := []struct {
		vec     []float64
		label   string
		prob    float64
		anomaly bool
	}{
		{[]float64{0, 0.1}, "benign", 0.75, false},
		{[]float64{0, 0.9}, "cryptominer", 1, false},
		{[]float64{1000, 0.9}, "cryptominer", 1, true},
	}
	for _, tt := range tests {
		p, err := m.Predict(tt.vec)
		if err != nil {
			t.Fatal(err)
		}
		if p.Label != tt.label || p.Probability != tt.prob || (p.Anomaly > 0) != tt.anomaly {
			t.Errorf("Predict(%v) = %+v, want %s p=%v anomalous=%v", tt.vec, p, tt.label, tt.prob, tt.anomaly)
		}
	}
	if got := m.MaliciousProbability(Prediction{Scores: []float64{0.75, 0.25}}); got != 0.25 {
		t.Errorf("MaliciousProbability = %v, want 0.25", got)
	}
}

// TestLoadRejects corrupts a good file one way at a time; each must be
// refused with ErrBadModel, never loaded or panicking.
func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(f *file)
	}{
		{"schema", func(f *file) { f.Schema = "other/v9" }},
		{"algorithm", func(f *file) { f.Algorithm = "svm" }},
		{"no trees", func(f *file) { f.Forest = nil }},
		{"child before parent", func(f *file) { f.Forest[0][0].Lo = 0 }},
		{"child out of range", func(f *file) { f.Forest[0][0].Hi = 9 }},
		{"feature out of range", func(f *file) { f.Forest[0][0].F = 2 }},
		{"short leaf", func(f *file) { f.Forest[0][1].C = []int{1} }},
		{"empty leaf", func(f *file) { f.Forest[0][1].C = []int{0, 0} }},
		{"negative count", func(f *file) { f.Forest[0][1].C = []int{-1, 3} }},
		{"unsorted classes", func(f *file) { f.Classes = []string{"cryptominer", "benign"} }},
		{"duplicate feature", func(f *file) { f.Features = []string{"a", "a"} }},
		{"anomaly scale", func(f *file) { f.Anomaly.Scale = []float64{1} }},
		{"anomaly zero scale", func(f *file) { f.Anomaly.Scale = []float64{0, 1} }},
		{"anomaly reference", func(f *file) { f.Anomaly.Reference = [][]float64{{1}} }},
		{"anomaly k", func(f *file) { f.Anomaly.K = 0 }},
		{"tampered content", func(f *file) { f.Forest[0][0].T = 0.4 }}, // version no longer matches
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := stump(t)
			f := *m.f
			f.Forest = []tree{append(tree(nil), m.f.Forest[0]...)}
			for i := range f.Forest[0] {
				f.Forest[0][i].C = append([]int(nil), f.Forest[0][i].C...)
			}
			tt.mutate(&f)
			b, err := json.Marshal(&f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Load(bytes.NewReader(b)); !errors.Is(err, ErrBadModel) {
				t.Errorf("Load: err = %v, want ErrBadModel", err)
			}
		})
	}
	for _, junk := range []string{"", "{", `{"schema":"sandscan.model/v1","extra":1}`, strings.Repeat(" ", 10)} {
		if _, err := Load(strings.NewReader(junk)); !errors.Is(err, ErrBadModel) {
			t.Errorf("Load(%q): err = %v, want ErrBadModel", junk, err)
		}
	}
}

// FuzzLoad: whatever the bytes, Load must not panic, and a model it
// accepts must predict without panicking or looping.
func FuzzLoad(f *testing.F) {
	var b bytes.Buffer
	stump(f).Save(&b)
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema":"sandscan.model/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, v := range []float64{-1e300, 0, 1e300} {
			vec := make([]float64, len(m.Features()))
			for i := range vec {
				vec[i] = v
			}
			if _, err := m.Predict(vec); err != nil {
				t.Fatal(err)
			}
		}
	})
}
