package models

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Sample is one labelled run as the model sees it.
type Sample struct {
	// Vector holds the run's features in the order of the names given to
	// Train.
	Vector []float64
	// Label is the behaviour class, e.g. "benign" or "cryptominer".
	Label string
	// Group names the variant family the run belongs to; SplitByGroup
	// keeps a family on one side of the split.
	Group string
	// Name identifies the run in evaluation reports (optional).
	Name string
}

// BenignLabel is the class of harmless runs: the anomaly score measures
// distance from the training runs that carry it.
const BenignLabel = "benign"

// Option changes how Train works.
type Option func(*config)

type config struct {
	trees, perSplit, neighbours int
}

// WithTrees sets the number of trees in the forest (default 64).
func WithTrees(n int) Option { return func(c *config) { c.trees = n } }

// WithFeaturesPerSplit sets how many features each split considers
// (default: the square root of the number of features, rounded up).
func WithFeaturesPerSplit(k int) Option { return func(c *config) { c.perSplit = k } }

// WithNeighbours sets how many benign neighbours the anomaly score
// averages over (default 3).
func WithNeighbours(k int) Option { return func(c *config) { c.neighbours = k } }

// ErrNoData is returned when Train is given nothing it can learn from.
var ErrNoData = errors.New("models: no training data")

// Train fits a model to samples whose vectors follow names. The same
// arguments always give the same model, byte for byte: golearn induces
// each tree, but every random choice comes from generators seeded from
// seed (see subspaceRule), never from math/rand's global source.
func Train(samples []Sample, names []string, seed int64, opts ...Option) (*Model, error) {
	cfg := config{trees: 64, neighbours: 3}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkNames(names); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, ErrNoData
	}
	if cfg.perSplit <= 0 {
		cfg.perSplit = int(math.Ceil(math.Sqrt(float64(len(names)))))
	}
	cfg.perSplit = min(cfg.perSplit, len(names))
	if cfg.trees <= 0 || cfg.neighbours <= 0 {
		return nil, fmt.Errorf("models: trees (%d) and neighbours (%d) must be positive", cfg.trees, cfg.neighbours)
	}

	classSet := map[string]bool{}
	for i, s := range samples {
		if len(s.Vector) != len(names) {
			return nil, fmt.Errorf("models: sample %d (%s) has %d features, want %d", i, s.Name, len(s.Vector), len(names))
		}
		if s.Label == "" {
			return nil, fmt.Errorf("models: sample %d (%s) has no label", i, s.Name)
		}
		for j, v := range s.Vector {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("models: sample %d (%s): feature %s is %v", i, s.Name, names[j], v)
			}
		}
		classSet[s.Label] = true
	}
	classes := make([]string, 0, len(classSet))
	for c := range classSet {
		classes = append(classes, c)
	}
	slices.Sort(classes)

	x := make([][]float64, len(samples))
	y := make([]int, len(samples))
	var benign []int
	perClass := map[string]int{}
	for i, s := range samples {
		x[i] = s.Vector
		y[i], _ = slices.BinarySearch(classes, s.Label)
		perClass[s.Label]++
		if s.Label == BenignLabel {
			benign = append(benign, i)
		}
	}
	if len(benign) == 0 {
		return nil, fmt.Errorf("%w: no %q samples for the anomaly score", ErrNoData, BenignLabel)
	}

	d := newDataset(names, classes, x, y)
	forest := make([]tree, cfg.trees)
	errs := make([]error, cfg.trees)
	var wg sync.WaitGroup
	jobs := make(chan int)
	for w := 0; w < min(runtime.GOMAXPROCS(0), cfg.trees); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				// Each tree has its own stream, so the number of
				// workers and their timing change nothing.
				ts := mix(uint64(seed), uint64(t)+1)
				r := newRNG(ts)
				rows := make([]int, len(samples))
				for i := range rows {
					rows[i] = r.intn(len(samples))
				}
				forest[t], errs[t] = d.growTree(rows, cfg.perSplit, r.next())
			}
		}()
	}
	for t := range forest {
		jobs <- t
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	f := &file{
		Schema:    Schema,
		Algorithm: Algorithm,
		Training: TrainingInfo{
			Seed: seed, Samples: len(samples), PerClass: perClass,
			Trees: cfg.trees, FeaturesPerSplit: cfg.perSplit, Neighbours: cfg.neighbours,
			Data: dataDigest(samples),
		},
		Features: slices.Clone(names),
		Classes:  classes,
		Forest:   forest,
		Anomaly:  fitAnomaly(x, benign, cfg.neighbours),
	}
	return newModel(f)
}

func checkNames(names []string) error {
	if len(names) == 0 {
		return errors.New("models: no feature names")
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "" || n == rowAttrName || n == classAttrName:
			return fmt.Errorf("models: bad feature name %q", n)
		case seen[n]:
			return fmt.Errorf("models: feature %q named twice", n)
		}
		seen[n] = true
	}
	return nil
}

// dataDigest fingerprints the training data (vectors and labels, in
// order) so a model file says what it was trained on.
func dataDigest(samples []Sample) string {
	h := sha256.New()
	var b [8]byte
	for _, s := range samples {
		h.Write([]byte(s.Label + "\x00"))
		for _, v := range s.Vector {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func fmtVec(v []float64) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		b.WriteByte(',')
	}
	return b.String()
}
