package models

import (
	"bytes"
	_ "embed"
	"sync"
)

// ModelFile is the shipped model's file name in this package: `sandscan
// train --out models/model.json models/corpus` regenerates it.
const ModelFile = "model.json"

//go:embed model.json
var shipped []byte

var loadDefault = sync.OnceValues(func() (*Model, error) { return Load(bytes.NewReader(shipped)) })

// Default returns the shipped model. It is loaded once and shared, which
// is safe: a Model is immutable.
func Default() (*Model, error) { return loadDefault() }
