package models

import (
	"fmt"
	"testing"
)

// benchData has the shape of the real corpus: about 50 features, nine
// classes, a few hundred runs.
func benchData() ([]Sample, []string) {
	r := newRNG(9)
	var names []string
	for i := 0; i < 50; i++ {
		names = append(names, fmt.Sprint("f", i))
	}
	var out []Sample
	for c := 0; c < 9; c++ {
		label := fmt.Sprint("class", c)
		if c == 0 {
			label = BenignLabel
		}
		for i := 0; i < 50; i++ {
			v := make([]float64, len(names))
			for j := range v {
				v[j] = float64(r.intn(10))
				if j%9 == c {
					v[j] += 20
				}
			}
			out = append(out, Sample{Label: label, Group: fmt.Sprint(i / 5), Vector: v})
		}
	}
	return out, names
}

// BenchmarkPredict is the inference latency of one run's vector: the
// forest's vote and the anomaly score.
func BenchmarkPredict(b *testing.B) {
	data, names := benchData()
	m, err := Train(data, names, 1)
	if err != nil {
		b.Fatal(err)
	}
	vec := data[len(data)/2].Vector
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Predict(vec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrain is a full training of 64 trees on 450 runs.
func BenchmarkTrain(b *testing.B) {
	data, names := benchData()
	for b.Loop() {
		if _, err := Train(data, names, 1); err != nil {
			b.Fatal(err)
		}
	}
}
