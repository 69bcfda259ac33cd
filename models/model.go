package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Schema names the model file format; Algorithm the kind of model in it.
const (
	Schema    = "sandscan.model/v1"
	Algorithm = "random-forest+knn-anomaly"
)

// Limits on a model file: it is data from disk or an embed, read with the
// same care as any input.
const (
	maxFileBytes = 32 << 20
	maxTrees     = 4096
	maxNodes     = 1 << 20 // per tree
	maxFeatures  = 4096
	maxClasses   = 256
	maxReference = 1 << 16
)

// TrainingInfo records how a model was trained.
type TrainingInfo struct {
	Seed             int64          `json:"seed"`
	Samples          int            `json:"samples"`
	PerClass         map[string]int `json:"per_class"`
	Trees            int            `json:"trees"`
	FeaturesPerSplit int            `json:"features_per_split"`
	Neighbours       int            `json:"neighbours"`
	// Data fingerprints the training vectors and labels.
	Data string `json:"data"`
}

// file is the model file's JSON document.
type file struct {
	Schema    string       `json:"schema"`
	Version   string       `json:"version"`
	Algorithm string       `json:"algorithm"`
	Training  TrainingInfo `json:"training"`
	Features  []string     `json:"features"`
	Classes   []string     `json:"classes"`
	Forest    []tree       `json:"forest"`
	Anomaly   anomaly      `json:"anomaly"`
}

// Model is a trained classifier and anomaly scorer. It is immutable and
// safe for concurrent use.
type Model struct {
	f      *file
	benign int // index of BenignLabel in Classes, or -1
}

// Prediction is the model's answer for one vector.
type Prediction struct {
	// Label is the most probable class; Probability its share of the
	// forest's vote (0..1).
	Label       string
	Probability float64
	// Anomaly is the distance from the benign training runs, 0..1.
	Anomaly float64
	// Scores are every class's probability, in Classes order.
	Scores []float64
}

// ErrFeatureMismatch means a caller's features are not the ones the model
// was trained on.
var ErrFeatureMismatch = errors.New("models: feature mismatch")

// ErrBadModel wraps every reason a model file is refused.
var ErrBadModel = errors.New("models: bad model file")

func newModel(f *file) (*Model, error) {
	v, err := f.digest()
	if err != nil {
		return nil, err
	}
	f.Version = v
	return &Model{f: f, benign: slices.Index(f.Classes, BenignLabel)}, nil
}

// digest is the model's version: a hash of everything in the file but the
// version itself, so a version names exactly one model.
func (f *file) digest() (string, error) {
	c := *f
	c.Version = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("models: %w", err)
	}
	sum := sha256.Sum256(b)
	return "rf-" + hex.EncodeToString(sum[:6]), nil
}

// Version names the model: "rf-" and 12 hex digits of its content hash.
func (m *Model) Version() string { return m.f.Version }

// Name is what a report shows as the model: "sandscan-rf@" + Version.
func (m *Model) Name() string { return "sandscan-rf@" + m.f.Version }

// Features lists the feature names the model expects, in vector order.
func (m *Model) Features() []string { return slices.Clone(m.f.Features) }

// Classes lists the labels the model can predict, sorted.
func (m *Model) Classes() []string { return slices.Clone(m.f.Classes) }

// Training says how the model was trained.
func (m *Model) Training() TrainingInfo { return m.f.Training }

// Predict classifies a vector in Features order. Values that are not
// finite count as 0.
func (m *Model) Predict(vec []float64) (Prediction, error) {
	if len(vec) != len(m.f.Features) {
		return Prediction{}, fmt.Errorf("%w: %d values, model has %d features", ErrFeatureMismatch, len(vec), len(m.f.Features))
	}
	v := make([]float64, len(vec))
	for i, x := range vec {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v[i] = x
		}
	}
	return m.predict(v), nil
}

func (m *Model) predict(v []float64) Prediction {
	scores := make([]float64, len(m.f.Classes))
	for _, t := range m.f.Forest {
		c := t.leaf(v)
		var n int
		for _, k := range c {
			n += k
		}
		for i, k := range c {
			scores[i] += float64(k) / float64(n)
		}
	}
	best := 0
	for i := range scores {
		scores[i] /= float64(len(m.f.Forest))
		if scores[i] > scores[best] {
			best = i
		}
	}
	return Prediction{
		Label:       m.f.Classes[best],
		Probability: scores[best],
		Anomaly:     m.f.Anomaly.score(v),
		Scores:      scores,
	}
}

// MaliciousProbability is the forest's vote for any class but benign.
func (m *Model) MaliciousProbability(p Prediction) float64 {
	if m.benign < 0 || m.benign >= len(p.Scores) {
		return 1
	}
	return 1 - p.Scores[m.benign]
}

// Bound predicts from vectors in a caller's feature order.
type Bound struct {
	m   *Model
	idx []int
	n   int
}

// Bind checks a caller's feature names against the model's and returns a
// predictor for vectors in the caller's order. Every feature the model was
// trained on must be among names (features added since training are
// ignored); otherwise the error lists what is missing.
func (m *Model) Bind(names []string) (*Bound, error) {
	pos := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := pos[n]; dup {
			return nil, fmt.Errorf("%w: %q named twice", ErrFeatureMismatch, n)
		}
		pos[n] = i
	}
	b := &Bound{m: m, idx: make([]int, len(m.f.Features)), n: len(names)}
	var missing []string
	for i, n := range m.f.Features {
		j, ok := pos[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		b.idx[i] = j
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: model %s needs features the caller lacks: %s (retrain with `sandscan train`)",
			ErrFeatureMismatch, m.Version(), strings.Join(missing, ", "))
	}
	return b, nil
}

// Model returns the bound model.
func (b *Bound) Model() *Model { return b.m }

// Predict classifies a vector in the order of the names given to Bind.
func (b *Bound) Predict(vec []float64) (Prediction, error) {
	if len(vec) != b.n {
		return Prediction{}, fmt.Errorf("%w: %d values, bound to %d names", ErrFeatureMismatch, len(vec), b.n)
	}
	v := make([]float64, len(b.idx))
	for i, j := range b.idx {
		v[i] = vec[j]
	}
	return b.m.Predict(v)
}

// Save writes the model file: compact JSON, the same bytes for the same
// model.
func (m *Model) Save(w io.Writer) error {
	b, err := json.Marshal(m.f)
	if err != nil {
		return fmt.Errorf("models: save: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// Load reads a model file written by Save and checks it thoroughly: a
// model that loads cannot make Predict fail or loop.
func Load(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("models: load: %w", err)
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadModel, maxFileBytes)
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	v, err := f.digest()
	if err != nil {
		return nil, err
	}
	if v != f.Version {
		return nil, fmt.Errorf("%w: version %q does not match its content (%s)", ErrBadModel, f.Version, v)
	}
	return &Model{f: &f, benign: slices.Index(f.Classes, BenignLabel)}, nil
}

func (f *file) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadModel}, args...)...)
	}
	if f.Schema != Schema {
		return bad("schema %q, want %q", f.Schema, Schema)
	}
	if f.Algorithm != Algorithm {
		return bad("algorithm %q, want %q", f.Algorithm, Algorithm)
	}
	nf, nc := len(f.Features), len(f.Classes)
	if nf > maxFeatures || nc == 0 || nc > maxClasses {
		return bad("%d features, %d classes", nf, nc)
	}
	if err := checkNames(f.Features); err != nil {
		return bad("%v", err)
	}
	if !slices.IsSorted(f.Classes) || len(slices.Compact(slices.Clone(f.Classes))) != nc || slices.Contains(f.Classes, "") {
		return bad("classes must be distinct, sorted and named")
	}
	if len(f.Forest) == 0 || len(f.Forest) > maxTrees {
		return bad("%d trees", len(f.Forest))
	}
	for ti, t := range f.Forest {
		if len(t) == 0 || len(t) > maxNodes {
			return bad("tree %d has %d nodes", ti, len(t))
		}
		for i, n := range t {
			if n.F < 0 {
				if n.F != -1 || len(n.C) != nc {
					return bad("tree %d node %d: bad leaf", ti, i)
				}
				var sum int
				for _, c := range n.C {
					if c < 0 || c > 1<<30 {
						return bad("tree %d node %d: bad count", ti, i)
					}
					sum += c
				}
				if sum == 0 {
					return bad("tree %d node %d: empty leaf", ti, i)
				}
				continue
			}
			// Children after the parent: every walk moves forward and ends.
			if n.F >= nf || n.Lo <= i || n.Hi <= i || n.Lo >= len(t) || n.Hi >= len(t) || n.C != nil ||
				math.IsNaN(n.T) || math.IsInf(n.T, 0) {
				return bad("tree %d node %d: bad split", ti, i)
			}
		}
	}
	a := &f.Anomaly
	if len(a.Scale) != nf || a.K <= 0 || a.K > maxReference || len(a.Reference) == 0 || len(a.Reference) > maxReference ||
		!finite(a.Threshold) || a.Threshold < 0 {
		return bad("anomaly model malformed")
	}
	for _, s := range a.Scale {
		if !finite(s) || s <= 0 {
			return bad("anomaly scale %v", s)
		}
	}
	for _, r := range a.Reference {
		if len(r) != nf {
			return bad("anomaly reference of %d values", len(r))
		}
		for _, x := range r {
			if !finite(x) {
				return bad("anomaly reference value %v", x)
			}
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
