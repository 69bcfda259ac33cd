package classifier

import (
	"errors"
	"testing"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/internal/corpus"
	"github.com/sandscan/sandscan/models"
	"github.com/sandscan/sandscan/trace"
)

const corpusDir = "../corpus"

func TestNewRefusesAModelOfOtherFeatures(t *testing.T) {
	names := []string{"exec_total", "feature_the_analyzer_never_had"}
	m, err := models.Train([]models.Sample{
		{Label: "benign", Vector: []float64{1, 0}}, {Label: "dropper", Vector: []float64{5, 1}},
	}, names, 1, models.WithTrees(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(m); !errors.Is(err, models.ErrFeatureMismatch) {
		t.Fatalf("New: err = %v, want ErrFeatureMismatch", err)
	}
}

// TestDefaultClassifiesTheCorpus runs the shipped model through the
// analyzer's seam on every stored corpus run: most must get their label
// (most were training runs; EVAL.md has the held-out figures), and the
// report must name the model.
func TestDefaultClassifiesTheCorpus(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	man, err := corpus.ReadManifest(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for _, e := range man.Runs {
		run, err := corpus.ReadRun(corpusDir, e)
		if err != nil {
			t.Fatal(err)
		}
		cls := c.Classify(analyzer.Extract(analyzer.NewIndex(run)))
		if cls.Label == e.Label {
			right++
		}
		if cls.Model != c.Model().Name() || cls.Probability <= 0 || cls.Probability > 1 || cls.Anomaly < 0 || cls.Anomaly > 1 {
			t.Fatalf("%s: classification %+v", e.Name, cls)
		}
	}
	if acc := float64(right) / float64(len(man.Runs)); acc < 0.85 {
		t.Errorf("shipped model labels %.2f of the corpus right, want >= 0.85", acc)
	}

	// Through the analyzer: the report carries the model's answer.
	run, err := corpus.ReadRun(corpusDir, man.Runs[0])
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analyzer.New(analyzer.WithClassifier(c)).Analyze(run)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Classification.Model != c.Model().Name() || rep.Analyzer.Model != c.Model().Name() {
		t.Errorf("report classification %+v, analyzer %+v", rep.Classification, rep.Analyzer)
	}
}

func firstRun(b *testing.B) *trace.Run {
	man, err := corpus.ReadManifest(corpusDir)
	if err != nil {
		b.Fatal(err)
	}
	run, err := corpus.ReadRun(corpusDir, man.Runs[len(man.Runs)/2])
	if err != nil {
		b.Fatal(err)
	}
	return run
}

// BenchmarkClassify is the model's share of analysing a run: one
// prediction from extracted features.
func BenchmarkClassify(b *testing.B) {
	c, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	f := analyzer.Extract(analyzer.NewIndex(firstRun(b)))
	for b.Loop() {
		c.Classify(f)
	}
}

// BenchmarkExtractAndClassify adds feature extraction from the run.
func BenchmarkExtractAndClassify(b *testing.B) {
	c, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	run := firstRun(b)
	for b.Loop() {
		c.Classify(analyzer.Extract(analyzer.NewIndex(run)))
	}
}
