package models

import (
	"math"
	"slices"
)

// anomaly scores how far a run lies from the benign training runs.
//
// Each feature is compressed with log1p (counts and byte totals span orders
// of magnitude) and divided by its spread over all training runs, floored
// at minScale so a feature that never varied in training (no benign run
// ever spoke stratum) still counts, strongly, when it does. The distance d
// of a run is the mean Euclidean distance to its K nearest benign reference
// runs. Threshold is the 95th percentile of that distance for the benign
// runs themselves (each measured against the others), so the score is
//
//	0                                  when d <= Threshold
//	1 - exp(-(d - Threshold) / Scale)  beyond, Scale = max(Threshold, 1)
//
// a run as typical as 95% of benign training runs scores 0, one twice as
// far scores about 0.63, and the score tends to 1 with distance.
type anomaly struct {
	Scale     []float64   `json:"scale"`
	K         int         `json:"k"`
	Threshold float64     `json:"threshold"`
	Reference [][]float64 `json:"reference"`
}

const (
	minScale = 0.25
	// refDigits rounds the stored reference vectors: far below any
	// distance that matters, and it keeps the model file small.
	refDigits = 1e4
)

func (a *anomaly) transform(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = compress(x) / a.Scale[i]
	}
	return out
}

// compress is a signed log1p.
func compress(x float64) float64 {
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}

func fitAnomaly(x [][]float64, benign []int, k int) anomaly {
	dim := len(x[0])
	a := anomaly{Scale: make([]float64, dim), K: k}
	for j := 0; j < dim; j++ {
		var sum, sq float64
		for _, v := range x {
			c := compress(v[j])
			sum += c
			sq += c * c
		}
		n := float64(len(x))
		mean := sum / n
		sd := math.Sqrt(math.Max(sq/n-mean*mean, 0))
		a.Scale[j] = round(math.Max(sd, minScale))
	}
	seen := map[string]bool{}
	for _, i := range benign {
		t := a.transform(x[i])
		for j := range t {
			t[j] = round(t[j])
		}
		key := fmtVec(t)
		if seen[key] {
			continue // duplicates would make every leave-one-out distance 0
		}
		seen[key] = true
		a.Reference = append(a.Reference, t)
	}
	// Leave-one-out distances of the references calibrate the threshold.
	var ds []float64
	for i, r := range a.Reference {
		if d, ok := a.knn(r, i); ok {
			ds = append(ds, d)
		}
	}
	if len(ds) > 0 {
		slices.Sort(ds)
		a.Threshold = round(ds[int(math.Ceil(0.95*float64(len(ds))))-1])
	}
	return a
}

// knn is the mean distance from t to its K nearest references, skipping
// reference skip (-1: none).
func (a *anomaly) knn(t []float64, skip int) (float64, bool) {
	k := a.K
	best := make([]float64, 0, k+1)
	for i, r := range a.Reference {
		if i == skip {
			continue
		}
		var s float64
		for j := range t {
			d := t[j] - r[j]
			s += d * d
		}
		// Keep the k smallest in order; k is small.
		pos, _ := slices.BinarySearch(best, s)
		if pos < k {
			best = slices.Insert(best, pos, s)
			if len(best) > k {
				best = best[:k]
			}
		}
	}
	if len(best) == 0 {
		return 0, false
	}
	var sum float64
	for _, s := range best {
		sum += math.Sqrt(s)
	}
	return sum / float64(len(best)), true
}

// score maps a raw vector to 0..1.
func (a *anomaly) score(v []float64) float64 {
	d, ok := a.knn(a.transform(v), -1)
	if !ok {
		return 0
	}
	return a.fromDistance(d)
}

func (a *anomaly) fromDistance(d float64) float64 {
	if d <= a.Threshold {
		return 0
	}
	return 1 - math.Exp(-(d-a.Threshold)/math.Max(a.Threshold, 1))
}

func round(x float64) float64 { return math.Round(x*refDigits) / refDigits }
