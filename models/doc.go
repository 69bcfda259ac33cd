// Package models holds Sandscan's machine-learned models: a random forest
// that names a run's behaviour class (benign, cryptominer, backdoor,
// dropper, ...) with a probability, and an anomaly score that measures how
// far a run lies from the benign runs of the training corpus. It trains
// (decision trees induced by golearn's ID3 with information gain on
// numeric splits, bagged and randomised over feature subsets here),
// evaluates on a split held out by variant family, and serialises to a
// small JSON file that needs no training data to load. Default returns the
// model shipped in model.json.
//
// The package sees only feature vectors and their names, never a
// trace.Run or the analyzer: the model file records the names it was
// trained on, and Bind refuses a caller whose features do not include
// them, so a changed feature set is an error, never silent garbage.
// Training is reproducible: the same samples, names, seed and options give
// the same model file, byte for byte (see Train for how golearn's own
// randomness and map ordering are kept out of it).
package models
