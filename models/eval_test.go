package models

import (
	"math"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	m := stump(t)
	test := []Sample{
		{Name: "b1", Label: "benign", Vector: []float64{0, 0.1}},
		{Name: "b2", Label: "benign", Vector: []float64{0, 0.9}}, // false positive
		{Name: "m1", Label: "cryptominer", Vector: []float64{0, 0.9}},
		{Name: "m2", Label: "cryptominer", Vector: []float64{0, 0.8}},
		{Name: "d1", Label: "dropper", Vector: []float64{0, 0.1}}, // a class the model lacks
	}
	e, err := Evaluate(m, test)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{1, 1, 0}, {0, 2, 0}, {1, 0, 0}}
	for i := range want {
		for j := range want[i] {
			if e.Confusion[i][j] != want[i][j] {
				t.Fatalf("confusion = %v, want %v (classes %v)", e.Confusion, want, e.Classes)
			}
		}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	sc := map[string]ClassScore{}
	for _, c := range e.PerClass {
		sc[c.Class] = c
	}
	if c := sc["benign"]; !near(c.Precision, 0.5) || !near(c.Recall, 0.5) || c.Support != 2 {
		t.Errorf("benign = %+v", c)
	}
	if c := sc["cryptominer"]; !near(c.Precision, 2.0/3) || !near(c.Recall, 1) || !near(c.F1, 0.8) {
		t.Errorf("cryptominer = %+v", c)
	}
	if c := sc["dropper"]; !math.IsNaN(c.Precision) || c.Recall != 0 {
		t.Errorf("dropper = %+v, want precision NaN (never predicted) and recall 0", c)
	}
	if !near(e.Accuracy, 0.6) || !near(e.MacroF1, (0.5+0.8+0)/3) {
		t.Errorf("accuracy %v, macro F1 %v", e.Accuracy, e.MacroF1)
	}
	if !near(e.DetectionRate, 2.0/3) || !near(e.FalsePositiveRate, 0.5) {
		t.Errorf("detection %v, false positives %v", e.DetectionRate, e.FalsePositiveRate)
	}
	if len(e.Misses) != 2 {
		t.Errorf("misses = %+v", e.Misses)
	}
	var b strings.Builder
	if err := e.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| dropper | 1 | 0 | n/a | 0.000 |", "| cryptominer | 0 | 2 | 0 |", "| b2 |  | benign | cryptominer |"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, b.String())
		}
	}
}

func TestCrossValidate(t *testing.T) {
	data := synth(40)
	e, err := CrossValidate(data, synthNames, 4, 1, WithTrees(16))
	if err != nil {
		t.Fatal(err)
	}
	if e.Samples != len(data) {
		t.Errorf("cross-validation scored %d runs, want every one of %d", e.Samples, len(data))
	}
	// The synthetic classes separate cleanly, even across families.
	if e.Accuracy < 0.9 {
		t.Errorf("accuracy %.3f on separable data, want >= 0.9", e.Accuracy)
	}
	folds := GroupFolds(data, 4, 1)
	foldOf := map[string]int{}
	used := map[int]bool{}
	for i, s := range data {
		key := s.Label + "/" + s.Group
		if f, ok := foldOf[key]; ok && f != folds[i] {
			t.Fatalf("family %s split across folds %d and %d", key, f, folds[i])
		}
		foldOf[key] = folds[i]
		used[folds[i]] = true
	}
	if len(used) != 4 {
		t.Errorf("only folds %v used", used)
	}
}
