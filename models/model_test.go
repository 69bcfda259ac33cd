package models

import (
	"bytes"
	"errors"
	"runtime"
	"slices"
	"testing"
)

func train(t testing.TB, samples []Sample, seed int64, opts ...Option) *Model {
	t.Helper()
	m, err := Train(samples, synthNames, seed, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func save(t testing.TB, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTrainIsReproducible(t *testing.T) {
	data := synth(30)
	a := save(t, train(t, data, 7))
	b := save(t, train(t, data, 7))
	if !bytes.Equal(a, b) {
		t.Fatalf("two trainings with seed 7 differ (%d and %d bytes)", len(a), len(b))
	}
	// Trees are grown in parallel; the worker count must not matter.
	prev := runtime.GOMAXPROCS(1)
	one := save(t, train(t, data, 7))
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, one) {
		t.Fatal("training with GOMAXPROCS=1 gave a different model")
	}
	if c := save(t, train(t, data, 8)); bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 gave the same model: the seed is not used")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := train(t, synth(20), 1)
	b := save(t, m)
	l, err := Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version() != m.Version() || !bytes.Equal(save(t, l), b) {
		t.Fatalf("round trip changed the model: %s -> %s", m.Version(), l.Version())
	}
	for _, s := range synth(5) {
		p1, _ := m.Predict(s.Vector)
		p2, _ := l.Predict(s.Vector)
		if p1.Label != p2.Label || p1.Probability != p2.Probability || p1.Anomaly != p2.Anomaly {
			t.Errorf("%s: %+v before save, %+v after load", s.Name, p1, p2)
		}
	}
}

func TestPredictKnownVectors(t *testing.T) {
	m := train(t, synth(30), 3)
	tests := []struct {
		vec  []float64
		want string
	}{
		{[]float64{2, 0.95, 2, 1, 0, 0}, "cryptominer"},
		{[]float64{3, 0.15, 1, 0, 0, 2}, "benign"},
		{[]float64{4, 0.1, 1, 0, 5, 2}, "credential_theft"},
	}
	for _, tt := range tests {
		p, err := m.Predict(tt.vec)
		if err != nil {
			t.Fatal(err)
		}
		if p.Label != tt.want || p.Probability < 0.6 {
			t.Errorf("Predict(%v) = %s p=%.2f, want %s with p >= 0.6", tt.vec, p.Label, p.Probability, tt.want)
		}
		var sum float64
		for _, s := range p.Scores {
			sum += s
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("scores %v sum to %v", p.Scores, sum)
		}
	}
	if _, err := m.Predict([]float64{1, 2}); !errors.Is(err, ErrFeatureMismatch) {
		t.Errorf("short vector: err = %v, want ErrFeatureMismatch", err)
	}
}

func TestAnomalyGrowsWithDistanceFromBenign(t *testing.T) {
	m := train(t, synth(30), 3)
	typical, _ := m.Predict([]float64{3, 0.2, 1, 0, 0, 2})
	odd, _ := m.Predict([]float64{40, 0.2, 30, 9, 0, 200})
	far, _ := m.Predict([]float64{400, 0.9, 300, 90, 50, 2000})
	if typical.Anomaly > 0.2 {
		t.Errorf("benign-like vector: anomaly %.3f, want <= 0.2", typical.Anomaly)
	}
	if !(odd.Anomaly > typical.Anomaly && far.Anomaly > odd.Anomaly && far.Anomaly <= 1) {
		t.Errorf("anomaly not increasing with distance: typical %.3f, odd %.3f, far %.3f", typical.Anomaly, odd.Anomaly, far.Anomaly)
	}
}

func TestBind(t *testing.T) {
	m := train(t, synth(20), 5)
	vec := []float64{2, 0.95, 2, 1, 0, 0}
	want, _ := m.Predict(vec)

	// The caller's order differs and it has a feature the model lacks.
	rev := slices.Clone(synthNames)
	slices.Reverse(rev)
	names := append([]string{"new_feature"}, rev...)
	b, err := m.Bind(names)
	if err != nil {
		t.Fatal(err)
	}
	callerVec := []float64{123}
	for i := len(vec) - 1; i >= 0; i-- {
		callerVec = append(callerVec, vec[i])
	}
	got, err := b.Predict(callerVec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Label != want.Label || got.Probability != want.Probability {
		t.Errorf("bound predict = %+v, want %+v", got, want)
	}

	for _, bad := range [][]string{
		synthNames[1:],                                // a feature missing
		{"exec_total", "cpu_share"},                   // most missing
		append(slices.Clone(synthNames), "cpu_share"), // a name twice
	} {
		if _, err := m.Bind(bad); !errors.Is(err, ErrFeatureMismatch) {
			t.Errorf("Bind(%v): err = %v, want ErrFeatureMismatch", bad, err)
		}
	}
	if _, err := b.Predict(vec); !errors.Is(err, ErrFeatureMismatch) {
		t.Errorf("bound predict of a model-order vector: err = %v, want ErrFeatureMismatch", err)
	}
}

func TestTrainRejects(t *testing.T) {
	good := synth(3)
	tests := []struct {
		name    string
		samples []Sample
		names   []string
	}{
		{"no samples", nil, synthNames},
		{"no names", good, nil},
		{"short vector", []Sample{{Label: "benign", Vector: []float64{1}}}, synthNames},
		{"no label", []Sample{{Vector: make([]float64, len(synthNames))}}, synthNames},
		{"no benign", good[1:2], synthNames},
		{"duplicate name", good, []string{"a", "a", "b", "c", "d", "e"}},
		{"reserved name", good, []string{"__row", "b", "c", "d", "e", "f"}},
	}
	for _, tt := range tests {
		if _, err := Train(tt.samples, tt.names, 1, WithTrees(2)); err == nil {
			t.Errorf("%s: Train succeeded", tt.name)
		}
	}
}

// TestTrainIsReproducibleWithTies trains on integer-valued features, where
// many candidate splits tie: ties must break the same way every time.
func TestTrainIsReproducibleWithTies(t *testing.T) {
	data, names := benchData()
	first := save(t, mustTrain(t, data, names))
	for i := 0; i < 2; i++ {
		if again := save(t, mustTrain(t, data, names)); !bytes.Equal(first, again) {
			t.Fatalf("training %d differs from the first", i+2)
		}
	}
}

func mustTrain(t *testing.T, data []Sample, names []string) *Model {
	t.Helper()
	m, err := Train(data, names, 11, WithTrees(12))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
