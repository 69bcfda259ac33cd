package models

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/sjwhitworth/golearn/evaluation"
)

// ClassScore is one class's precision, recall and F1 on a test set.
// A score with nothing to divide by (no run of the class, or none
// predicted as it) is NaN.
type ClassScore struct {
	Class     string
	Support   int // test runs of the class
	Predicted int // test runs predicted as the class
	Precision float64
	Recall    float64
	F1        float64
}

// Miss is a misclassified test run.
type Miss struct {
	Name, Group, Label, Predicted string
	Probability                   float64
}

// Evaluation is how a model did on labelled runs it was not trained on.
type Evaluation struct {
	Model   string
	Samples int
	// Classes are the rows and columns of Confusion: the model's classes
	// plus any label only the test set has.
	Classes []string
	// Confusion[i][j] counts runs of Classes[i] predicted as Classes[j].
	Confusion [][]int
	PerClass  []ClassScore
	Accuracy  float64
	MacroF1   float64
	// Binary view (benign against everything else): malicious runs
	// predicted malicious, and benign runs predicted malicious.
	DetectionRate, FalsePositiveRate float64
	Malicious, Benign                int
	// Mean anomaly scores of the benign and the malicious test runs.
	AnomalyBenign, AnomalyMalicious float64
	Misses                          []Miss
}

// Evaluate predicts every test sample and scores the predictions. The
// per-class figures come from golearn's evaluation package.
func Evaluate(m *Model, test []Sample) (*Evaluation, error) {
	rs := make([]result, 0, len(test))
	for _, s := range test {
		p, err := m.Predict(s.Vector)
		if err != nil {
			return nil, fmt.Errorf("models: evaluate %s: %w", s.Name, err)
		}
		rs = append(rs, result{s, p})
	}
	return score(m.Name(), m.Classes(), rs), nil
}

// CrossValidate is k-fold cross-validation by variant family: each fold
// holds out about 1/k of every class's families, a model is trained on
// the rest, and the predictions of all folds are scored together.
func CrossValidate(samples []Sample, names []string, k int, seed int64, opts ...Option) (*Evaluation, error) {
	if k < 2 {
		return nil, fmt.Errorf("models: %d folds", k)
	}
	fold := GroupFolds(samples, k, seed)
	var rs []result
	var classes []string
	for f := 0; f < k; f++ {
		var train, test []Sample
		for i, s := range samples {
			if fold[i] == f {
				test = append(test, s)
			} else {
				train = append(train, s)
			}
		}
		if len(test) == 0 {
			continue
		}
		m, err := Train(train, names, seed+int64(f), opts...)
		if err != nil {
			return nil, fmt.Errorf("models: fold %d: %w", f, err)
		}
		for _, c := range m.Classes() {
			if !slices.Contains(classes, c) {
				classes = append(classes, c)
			}
		}
		for _, s := range test {
			p, err := m.Predict(s.Vector)
			if err != nil {
				return nil, err
			}
			rs = append(rs, result{s, p})
		}
	}
	return score(fmt.Sprintf("%d-fold cross-validation by family", k), classes, rs), nil
}

// GroupFolds assigns each sample a fold in [0, k): every class's families
// are shuffled (seeded by the class name) and dealt round-robin, so a
// family is never split and every fold has some of most classes.
func GroupFolds(samples []Sample, k int, seed int64) []int {
	groups := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, s := range samples {
		key := [2]string{s.Label, s.Group}
		if !seen[key] {
			seen[key] = true
			groups[s.Label] = append(groups[s.Label], s.Group)
		}
	}
	foldOf := map[[2]string]int{}
	for l, gs := range groups {
		slices.Sort(gs)
		shuffle(newRNG(mix(uint64(seed), labelHash(l)^0xf01d)), gs)
		off := int(labelHash(l) % uint64(k)) // classes with few families land in different folds
		for i, g := range gs {
			foldOf[[2]string{l, g}] = (i + off) % k
		}
	}
	out := make([]int, len(samples))
	for i, s := range samples {
		out[i] = foldOf[[2]string{s.Label, s.Group}]
	}
	return out
}

type result struct {
	s Sample
	p Prediction
}

func score(model string, modelClasses []string, rs []result) *Evaluation {
	classes := slices.Clone(modelClasses)
	for _, r := range rs {
		if !slices.Contains(classes, r.s.Label) {
			classes = append(classes, r.s.Label)
		}
	}
	slices.Sort(classes)
	idx := func(c string) int { i, _ := slices.BinarySearch(classes, c); return i }
	e := &Evaluation{Model: model, Samples: len(rs), Classes: classes,
		Confusion: make([][]int, len(classes))}
	for i := range e.Confusion {
		e.Confusion[i] = make([]int, len(classes))
	}
	cm := evaluation.ConfusionMatrix{}
	for _, c := range classes {
		cm[c] = map[string]int{}
	}
	var detected, falsePos int
	var anomB, anomM float64
	for _, r := range rs {
		s, p := r.s, r.p
		e.Confusion[idx(s.Label)][idx(p.Label)]++
		cm[s.Label][p.Label]++
		if p.Label != s.Label {
			e.Misses = append(e.Misses, Miss{Name: s.Name, Group: s.Group, Label: s.Label, Predicted: p.Label, Probability: p.Probability})
		}
		predMal := p.Label != BenignLabel
		if s.Label == BenignLabel {
			e.Benign++
			anomB += p.Anomaly
			if predMal {
				falsePos++
			}
		} else {
			e.Malicious++
			anomM += p.Anomaly
			if predMal {
				detected++
			}
		}
	}
	var correct int
	var f1sum float64
	var f1n int
	for i, c := range classes {
		correct += e.Confusion[i][i]
		sc := ClassScore{Class: c,
			Precision: evaluation.GetPrecision(c, cm),
			Recall:    evaluation.GetRecall(c, cm),
			F1:        evaluation.GetF1Score(c, cm)}
		for j := range classes {
			sc.Support += e.Confusion[i][j]
			sc.Predicted += e.Confusion[j][i]
		}
		if sc.Support > 0 {
			f1 := sc.F1
			if math.IsNaN(f1) {
				f1 = 0 // support but nothing right: F1 is 0, not undefined
			}
			f1sum += f1
			f1n++
		}
		e.PerClass = append(e.PerClass, sc)
	}
	e.Accuracy = ratio(correct, len(rs))
	if f1n > 0 {
		e.MacroF1 = f1sum / float64(f1n)
	}
	e.DetectionRate = ratio(detected, e.Malicious)
	e.FalsePositiveRate = ratio(falsePos, e.Benign)
	e.AnomalyBenign, e.AnomalyMalicious = math.NaN(), math.NaN()
	if e.Benign > 0 {
		e.AnomalyBenign = anomB / float64(e.Benign)
	}
	if e.Malicious > 0 {
		e.AnomalyMalicious = anomM / float64(e.Malicious)
	}
	return e
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// WriteMarkdown writes the evaluation as the body of EVAL.md: the summary,
// per-class scores, the confusion matrix and the misclassified runs.
func (e *Evaluation) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Test runs: %d (%d benign, %d malicious). Accuracy %s, macro F1 %s.\n",
		e.Samples, e.Benign, e.Malicious, num(e.Accuracy), num(e.MacroF1))
	fmt.Fprintf(&b, "Benign against the rest: detection rate %s, false positive rate %s.\n",
		num(e.DetectionRate), num(e.FalsePositiveRate))
	fmt.Fprintf(&b, "Mean anomaly score: benign %s, malicious %s.\n\n", num(e.AnomalyBenign), num(e.AnomalyMalicious))

	b.WriteString("| class | test runs | predicted | precision | recall | F1 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range e.PerClass {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s |\n", c.Class, c.Support, c.Predicted, num(c.Precision), num(c.Recall), num(c.F1))
	}

	b.WriteString("\nConfusion matrix (rows: true class, columns: predicted):\n\n| true \\ predicted |")
	for _, c := range e.Classes {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(e.Classes)) + "\n")
	for i, c := range e.Classes {
		fmt.Fprintf(&b, "| %s |", c)
		for _, n := range e.Confusion[i] {
			fmt.Fprintf(&b, " %d |", n)
		}
		b.WriteString("\n")
	}

	if len(e.Misses) > 0 {
		b.WriteString("\nMisclassified test runs:\n\n| run | family | true | predicted | probability |\n| --- | --- | --- | --- | ---: |\n")
		for _, m := range e.Misses {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.3f |\n", m.Name, m.Group, m.Label, m.Predicted, m.Probability)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// num prints a score with three decimals, or "n/a" when undefined.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", x)
}
