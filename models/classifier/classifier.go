package classifier

import (
	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/models"
)

// Classifier answers analyzer.Classifier with a model's prediction.
type Classifier struct {
	b *models.Bound
}

var _ analyzer.Classifier = (*Classifier)(nil)

// New binds m to the analyzer's features; it fails with
// models.ErrFeatureMismatch when the model needs a feature the analyzer no
// longer computes.
func New(m *models.Model) (*Classifier, error) {
	b, err := m.Bind(analyzer.FeatureNames())
	if err != nil {
		return nil, err
	}
	return &Classifier{b: b}, nil
}

// Default is New of the model shipped with Sandscan.
func Default() (*Classifier, error) {
	m, err := models.Default()
	if err != nil {
		return nil, err
	}
	return New(m)
}

// Model returns the model behind the classifier.
func (c *Classifier) Model() *models.Model { return c.b.Model() }

// Classify predicts the run's behaviour class. Label is the most probable
// class and Probability its share of the forest's vote; Anomaly is the
// distance from the benign training runs.
func (c *Classifier) Classify(f analyzer.Features) analyzer.Classification {
	m := c.b.Model()
	p, err := c.b.Predict(f.Vector())
	if err != nil {
		// Bind checked the names, so only a broken analyzer gets here.
		return analyzer.Classification{Label: "unknown", Model: m.Name()}
	}
	return analyzer.Classification{Label: p.Label, Probability: p.Probability, Model: m.Name(), Anomaly: p.Anomaly}
}
