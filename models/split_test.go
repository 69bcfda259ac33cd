package models

import (
	"fmt"
	"reflect"
	"testing"
)

func TestSplitByGroup(t *testing.T) {
	var samples []Sample
	add := func(label string, groups, per int) {
		for g := 0; g < groups; g++ {
			for i := 0; i < per; i++ {
				samples = append(samples, Sample{Label: label, Group: fmt.Sprint("g", g), Name: fmt.Sprint(label, g, i)})
			}
		}
	}
	add("benign", 8, 3)
	add("dropper", 4, 2)
	add("recon", 1, 5) // one family: nothing to hold out

	train, test := SplitByGroup(samples, 0.25, 1)
	if len(train)+len(test) != len(samples) {
		t.Fatalf("split lost samples: %d + %d != %d", len(train), len(test), len(samples))
	}
	side := map[[2]string]string{}
	testGroups := map[string]map[string]bool{}
	for name, part := range map[string][]Sample{"train": train, "test": test} {
		for _, s := range part {
			k := [2]string{s.Label, s.Group}
			if prev, ok := side[k]; ok && prev != name {
				t.Fatalf("family %v is in both train and test", k)
			}
			side[k] = name
			if name == "test" {
				if testGroups[s.Label] == nil {
					testGroups[s.Label] = map[string]bool{}
				}
				testGroups[s.Label][s.Group] = true
			}
		}
	}
	for label, want := range map[string]int{"benign": 2, "dropper": 1, "recon": 0} {
		if got := len(testGroups[label]); got != want {
			t.Errorf("%s: %d families held out, want %d", label, got, want)
		}
	}
	train2, test2 := SplitByGroup(samples, 0.25, 1)
	if !reflect.DeepEqual(train, train2) || !reflect.DeepEqual(test, test2) {
		t.Error("the same seed gave a different split")
	}
	_, test3 := SplitByGroup(samples, 0.9, 1)
	for label, n := range map[string]int{"benign": 7, "dropper": 3} {
		got := map[string]bool{}
		for _, s := range test3 {
			if s.Label == label {
				got[s.Group] = true
			}
		}
		if len(got) != n {
			t.Errorf("testFrac 0.9: %s has %d test families, want %d (one always stays in training)", label, len(got), n)
		}
	}
}
