package models

// rng is splitmix64: tiny, fast and fully specified, so a seed gives the
// same stream on every Go version (math/rand's streams are only promised
// for its deprecated global functions, which golearn shares).
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is below 2^-50 for the
// sizes used here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// shuffle permutes s in place (Fisher-Yates).
func shuffle[T any](r *rng, s []T) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// mix derives independent seeds from one (a splitmix64 step of a+b).
func mix(a, b uint64) uint64 {
	r := rng{s: a ^ (b * 0xd1342543de82ef95)}
	return r.next()
}
