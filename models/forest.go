package models

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// node is one node of a flattened tree. A leaf has F = -1 and C, the class
// counts of the training rows that reached it (in Model.Classes order); an
// inner node sends a value v[F] > T to Hi and anything else to Lo. Children
// always come after their parent, so a walk ends.
type node struct {
	F  int     `json:"f"`
	T  float64 `json:"t,omitempty"`
	Lo int     `json:"lo,omitempty"`
	Hi int     `json:"hi,omitempty"`
	C  []int   `json:"c,omitempty"`
}

type tree []node

// leaf returns the class counts of the leaf v reaches.
func (t tree) leaf(v []float64) []int {
	i := 0
	for {
		n := &t[i]
		if n.F < 0 {
			return n.C
		}
		if v[n.F] > n.T {
			i = n.Hi
		} else {
			i = n.Lo
		}
	}
}

// Hidden attribute names of the golearn data sets; feature names cannot
// collide with them (Train checks).
const (
	rowAttrName   = "__row"
	classAttrName = "__class"
)

// dataset is the training rows as golearn wants them, with the attribute
// objects reused across every tree's copy so they compare by identity.
type dataset struct {
	feats   []*base.FloatAttribute
	index   map[string]int // feature name -> index
	row     *base.FloatAttribute
	class   *base.CategoricalAttribute
	classes []string
	x       [][]float64
	y       []int // class index per row
}

func newDataset(names, classes []string, x [][]float64, y []int) *dataset {
	d := &dataset{index: map[string]int{}, row: base.NewFloatAttribute(rowAttrName),
		class: base.NewCategoricalAttribute(), classes: classes, x: x, y: y}
	d.class.SetName(classAttrName)
	// Register the classes in sorted order so their system values are
	// the same in every run.
	for _, c := range classes {
		d.class.GetSysValFromString(c)
	}
	for i, n := range names {
		d.feats = append(d.feats, base.NewFloatAttribute(n))
		d.index[n] = i
	}
	return d
}

// instances builds golearn instances of the given rows (indices into x,
// repeats allowed), numbered by the hidden row attribute in order.
func (d *dataset) instances(rows []int) (*base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(d.feats))
	for i, a := range d.feats {
		specs[i] = inst.AddAttribute(a)
	}
	rowSpec := inst.AddAttribute(d.row)
	classSpec := inst.AddAttribute(d.class)
	if err := inst.AddClassAttribute(d.class); err != nil {
		return nil, err
	}
	if err := inst.Extend(len(rows)); err != nil {
		return nil, err
	}
	for i, r := range rows {
		for j, s := range specs {
			inst.Set(s, i, base.PackFloatToBytes(d.x[r][j]))
		}
		inst.Set(rowSpec, i, base.PackFloatToBytes(float64(i)))
		inst.Set(classSpec, i, d.class.GetSysValFromString(d.classes[d.y[r]]))
	}
	return inst, nil
}

// growTree induces one tree with golearn's ID3 on a bootstrap sample.
func (d *dataset) growTree(rows []int, k int, seed uint64) (tree, error) {
	slices.Sort(rows) // the tree depends on the sample, not the draw order
	inst, err := d.instances(rows)
	if err != nil {
		return nil, err
	}
	rule := &subspaceRule{d: d, k: k, seed: seed}
	root := trees.InferID3Tree(inst, rule)
	if rule.err != nil {
		return nil, rule.err
	}
	var t tree
	if err := d.flatten(&t, root); err != nil {
		return nil, err
	}
	return t, nil
}

// flatten appends n's subtree to t in preorder. A numeric split that sent
// every row one way has one child; it is replaced by that child.
func (d *dataset) flatten(t *tree, n *trees.DecisionTreeNode) error {
	if n.SplitRule == nil || n.SplitRule.SplitAttr == nil || len(n.Children) == 0 {
		c := make([]int, len(d.classes))
		for name, cnt := range n.ClassDist {
			i, ok := slices.BinarySearch(d.classes, name)
			if !ok {
				return fmt.Errorf("models: tree leaf has unknown class %q", name)
			}
			c[i] = cnt
		}
		*t = append(*t, node{F: -1, C: c})
		return nil
	}
	lo, hi := n.Children["0"], n.Children["1"]
	switch {
	case lo == nil && hi == nil:
		return fmt.Errorf("models: split on %s without numeric children", n.SplitRule.SplitAttr.GetName())
	case lo == nil:
		return d.flatten(t, hi)
	case hi == nil:
		return d.flatten(t, lo)
	}
	f, ok := d.index[n.SplitRule.SplitAttr.GetName()]
	if !ok {
		return fmt.Errorf("models: split on unknown attribute %s", n.SplitRule.SplitAttr.GetName())
	}
	at := len(*t)
	*t = append(*t, node{F: f, T: n.SplitRule.SplitVal})
	(*t)[at].Lo = len(*t)
	if err := d.flatten(t, lo); err != nil {
		return err
	}
	(*t)[at].Hi = len(*t)
	return d.flatten(t, hi)
}

// subspaceRule is a golearn RuleGenerator: at each node it draws k of the
// features still available and lets golearn's information-gain generator
// pick the best split among them (trying further draws when none of them
// splits the rows, as a constant feature cannot).
//
// golearn's own RandomTree draws from math/rand's global source in the
// order InferID3Tree visits children, which is a map's order, so even a
// seeded global source gives different trees from run to run; its views
// also list rows in map order, which changes float sums and so breaks ties
// differently. Here every node works on a copy of its rows sorted by the
// hidden row number and draws from a generator seeded by the tree's seed
// and those row numbers, so the tree depends on nothing else.
type subspaceRule struct {
	d    *dataset
	k    int
	seed uint64
	ig   trees.InformationGainRuleGenerator
	err  error
}

func (r *subspaceRule) GenerateSplitRule(f base.FixedDataGrid) *trees.DecisionTreeRule {
	if r.err != nil {
		return nil
	}
	c, err := r.canonical(f)
	if err != nil {
		r.err = err
		return nil
	}
	if len(c.avail) == 0 || len(c.ids) < 2 {
		return nil
	}
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], r.seed)
	h.Write(b[:])
	for _, id := range c.ids {
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		h.Write(b[:])
	}
	order := make([]int, len(c.avail)) // positions in c.avail
	for i := range order {
		order[i] = i
	}
	shuffle(newRNG(h.Sum64()), order)
	for start := 0; start < len(order); start += r.k {
		cand := slices.Clone(order[start:min(start+r.k, len(order))])
		slices.Sort(cand)
		// golearn finds each candidate's best threshold; the gains are
		// compared here, because golearn's own comparison subtracts from
		// an entropy it sums in map order, which can flip near-ties.
		var best *trees.DecisionTreeRule
		bestGain := math.Inf(-1)
		for _, pos := range cand {
			rule := r.ig.GetSplitRuleFromSelection([]base.Attribute{r.d.feats[c.avail[pos]]}, c.g)
			if rule == nil || rule.SplitAttr == nil || math.IsInf(rule.SplitVal, 0) || math.IsNaN(rule.SplitVal) {
				continue
			}
			if g := c.gain(pos, rule.SplitVal); g > bestGain {
				best, bestGain = rule, g
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// rows is a node's training rows in canonical order.
type rows struct {
	g     *base.DenseInstances
	ids   []int
	avail []int       // feature indices present
	vals  [][]float64 // [row][position in avail]
	class []int       // class index per row
	n     int         // number of classes
}

// gain is the information gain of splitting on avail[pos] at t, summed
// in class order so it is the same number every time.
func (c *rows) gain(pos int, t float64) float64 {
	all := make([]float64, c.n)
	lo := make([]float64, c.n)
	hi := make([]float64, c.n)
	var nlo, nhi float64
	for i, v := range c.vals {
		all[c.class[i]]++
		if v[pos] > t {
			hi[c.class[i]]++
			nhi++
		} else {
			lo[c.class[i]]++
			nlo++
		}
	}
	n := nlo + nhi
	return entropyOf(all, n) - nlo/n*entropyOf(lo, nlo) - nhi/n*entropyOf(hi, nhi)
}

func entropyOf(counts []float64, n float64) float64 {
	if n == 0 {
		return 0
	}
	var h float64
	for _, k := range counts {
		if k > 0 {
			p := k / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// canonical copies f's rows into dense instances ordered by the hidden row
// number, and lists the row numbers and the features f still holds.
func (r *subspaceRule) canonical(f base.FixedDataGrid) (*rows, error) {
	d := r.d
	var avail []int
	for _, a := range f.AllAttributes() {
		if i, ok := d.index[a.GetName()]; ok {
			if _, isFloat := a.(*base.FloatAttribute); isFloat {
				avail = append(avail, i)
			}
		}
	}
	slices.Sort(avail)
	specs := make([]base.AttributeSpec, 0, len(avail)+2)
	for _, i := range avail {
		s, err := f.GetAttribute(d.feats[i])
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	rowSpec, err := f.GetAttribute(d.row)
	if err != nil {
		return nil, err
	}
	classSpec, err := f.GetAttribute(d.class)
	if err != nil {
		return nil, err
	}
	specs = append(specs, rowSpec, classSpec)
	type rec struct {
		id    int
		vals  []float64
		class []byte
	}
	var recs []rec
	err = f.MapOverRows(specs, func(row [][]byte, _ int) (bool, error) {
		v := make([]float64, len(avail))
		for i := range avail {
			v[i] = base.UnpackBytesToFloat(row[i])
		}
		recs = append(recs, rec{
			id:    int(base.UnpackBytesToFloat(row[len(avail)])),
			vals:  v,
			class: slices.Clone(row[len(avail)+1]),
		})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b rec) int { return cmp.Compare(a.id, b.id) })

	g := base.NewDenseInstances()
	gs := make([]base.AttributeSpec, len(avail))
	for i, fi := range avail {
		gs[i] = g.AddAttribute(d.feats[fi])
	}
	gc := g.AddAttribute(d.class)
	if err := g.AddClassAttribute(d.class); err != nil {
		return nil, err
	}
	if err := g.Extend(len(recs)); err != nil {
		return nil, err
	}
	c := &rows{g: g, ids: make([]int, len(recs)), avail: avail, vals: make([][]float64, len(recs)),
		class: make([]int, len(recs)), n: len(d.classes)}
	for i, rc := range recs {
		c.ids[i] = rc.id
		c.vals[i] = rc.vals
		ci, ok := slices.BinarySearch(d.classes, d.class.GetStringFromSysVal(rc.class))
		if !ok {
			return nil, fmt.Errorf("models: row of unknown class")
		}
		c.class[i] = ci
		for j, s := range gs {
			g.Set(s, i, base.PackFloatToBytes(rc.vals[j]))
		}
		g.Set(gc, i, rc.class)
	}
	return c, nil
}
