package models

import (
	"hash/fnv"
	"math"
	"slices"
)

// SplitByGroup holds out whole variant families: for each label it puts
// about testFrac of its groups (at least one, and never all when it has
// two or more) and every sample of those groups into test, the rest into
// train. A test run is thus of a family training never saw, which is what
// a new image is. Samples keep their order within each side; the same
// arguments give the same split.
func SplitByGroup(samples []Sample, testFrac float64, seed int64) (train, test []Sample) {
	groups := map[string][]string{} // label -> groups
	seen := map[[2]string]bool{}
	for _, s := range samples {
		k := [2]string{s.Label, s.Group}
		if !seen[k] {
			seen[k] = true
			groups[s.Label] = append(groups[s.Label], s.Group)
		}
	}
	labels := make([]string, 0, len(groups))
	for l := range groups {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	held := map[[2]string]bool{}
	for _, l := range labels {
		gs := groups[l]
		slices.Sort(gs)
		if len(gs) < 2 {
			continue
		}
		n := int(math.Round(testFrac * float64(len(gs))))
		n = min(max(n, 1), len(gs)-1)
		// Seeded by the label's name, so adding a class moves no other.
		shuffle(newRNG(mix(uint64(seed), labelHash(l))), gs)
		for _, g := range gs[:n] {
			held[[2]string{l, g}] = true
		}
	}
	for _, s := range samples {
		if held[[2]string{s.Label, s.Group}] {
			test = append(test, s)
		} else {
			train = append(train, s)
		}
	}
	return train, test
}

func labelHash(l string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(l))
	return h.Sum64()
}
