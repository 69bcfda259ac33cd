package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says whether a test is malicious (an atomic) or a benign control.
type Kind string

const (
	KindAtomic  Kind = "atomic"
	KindControl Kind = "control"
)

// Root filesystems a test image is built on.
const (
	RootfsDebian  = "debian"
	RootfsBusybox = "busybox"
)

// Files of a corpus directory.
const (
	AtomicsFile  = "atomics.json"
	ControlsFile = "benign.json"
)

// DefaultTimeout bounds a test that says nothing about its duration.
const DefaultTimeout = 20 * time.Second

// Test is one workload of a corpus, atomics and controls alike.
type Test struct {
	// ID is short and readable (A07, B03); Key is stable across corpus
	// edits (the atomic's guid, the control's id) and names saved runs.
	ID   string
	Key  string
	Kind Kind
	Name string

	// Technique is the expected ATT&CK id (v19), Legacy its v18 id when it
	// was renamed. Controls expect none.
	Technique string
	Legacy    string
	// Tactic is the primary tactic (v19), LegacyTactic its v18 view.
	Tactic        string
	Tactics       []string
	LegacyTactic  string
	LegacyTactics []string
	// Signal is the tier: how far the test stands out from normal
	// container behaviour (high, medium, low).
	Signal string

	// Shell is the executor (sh or bash); Setup runs before Command in the
	// same shell process.
	Shell   string
	Setup   string
	Command string

	// Packages are the Debian packages the test needs.
	Packages []string
	// Rootfs is RootfsDebian or RootfsBusybox.
	Rootfs            string
	BusyboxCompatible bool

	Timeout time.Duration
	// Destructive tests wreck their own sandbox (rm -rf /): run last.
	Destructive bool
	// Build is a program to compile on the host and add to the image.
	Build *GoBuild
}

// Expected lists every id that counts as the test's technique.
func (t Test) Expected() []string {
	var ids []string
	for _, id := range []string{t.Technique, t.Legacy} {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// GoBuild is a static Go program built from source the corpus ships.
type GoBuild struct {
	// Output is where the binary goes in the image.
	Output string
	// Module is the go.mod module path when Sources has no go.mod.
	Module  string
	Sources map[string]string
}

// Corpus is a directory of tests in the atomics.json / benign.json format.
type Corpus struct {
	Dir   string
	Tests []Test
}

// Atomics returns the malicious tests.
func (c *Corpus) Atomics() []Test { return c.kind(KindAtomic) }

// Controls returns the benign tests.
func (c *Corpus) Controls() []Test { return c.kind(KindControl) }

func (c *Corpus) kind(k Kind) []Test {
	var out []Test
	for _, t := range c.Tests {
		if t.Kind == k {
			out = append(out, t)
		}
	}
	return out
}

// DebianPackages is the union of the packages of every test that runs on
// Debian: one base tree serves the whole corpus.
func (c *Corpus) DebianPackages() []string {
	var pkgs []string
	for _, t := range c.Tests {
		if t.Rootfs == RootfsDebian {
			pkgs = append(pkgs, t.Packages...)
		}
	}
	slices.Sort(pkgs)
	return slices.Compact(pkgs)
}

// validation is what the corpus author saw when running the test once.
type validation struct {
	RC   string `json:"rc"`
	Wall string `json:"wall"`
}

type atomicJSON struct {
	Technique         string     `json:"technique"`
	LegacyTechnique   string     `json:"legacy_technique"`
	Tactic            string     `json:"tactic"`
	Tactics           []string   `json:"tactics"`
	LegacyTactics     []string   `json:"legacy_tactics"`
	Name              string     `json:"name"`
	GUID              string     `json:"guid"`
	Shell             string     `json:"shell"`
	Command           string     `json:"command"`
	Setup             *string    `json:"setup"`
	DebianPackages    []string   `json:"debian_packages"`
	Signal            string     `json:"signal"`
	BusyboxCompatible bool       `json:"busybox_compatible"`
	Caveats           string     `json:"caveats"`
	Validation        validation `json:"gvisor_validation"`
	TimeoutSeconds    float64    `json:"timeout_seconds"`
	Destructive       bool       `json:"destructive"`
}

type controlJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	DebianPackages []string          `json:"debian_packages"`
	Command        string            `json:"command"`
	Shell          string            `json:"shell"`
	Setup          *string           `json:"setup"`
	Rootfs         string            `json:"rootfs"`
	Notes          string            `json:"notes"`
	Validation     validation        `json:"gvisor_validation"`
	TimeoutSeconds float64           `json:"timeout_seconds"`
	Build          string            `json:"build"`
	BuildSource    map[string]string `json:"build_source"`
}

// ErrCorpus wraps every problem with a corpus's files.
var ErrCorpus = errors.New("eval corpus")

// Load reads a corpus directory. Either file may be missing, not both.
func Load(dir string) (*Corpus, error) {
	c := &Corpus{Dir: dir}
	var atomics []atomicJSON
	var controls []controlJSON
	na, err := readJSON(filepath.Join(dir, AtomicsFile), &atomics)
	if err != nil {
		return nil, err
	}
	nc, err := readJSON(filepath.Join(dir, ControlsFile), &controls)
	if err != nil {
		return nil, err
	}
	if !na && !nc {
		return nil, fmt.Errorf("%w: %s holds neither %s nor %s", ErrCorpus, dir, AtomicsFile, ControlsFile)
	}
	for i, a := range atomics {
		t, err := a.test(i)
		if err != nil {
			return nil, fmt.Errorf("%w: %s entry %d (%s): %w", ErrCorpus, AtomicsFile, i+1, a.Name, err)
		}
		c.Tests = append(c.Tests, t)
	}
	for i, b := range controls {
		t, err := b.test()
		if err != nil {
			return nil, fmt.Errorf("%w: %s entry %d (%s): %w", ErrCorpus, ControlsFile, i+1, b.ID, err)
		}
		c.Tests = append(c.Tests, t)
	}
	seen := map[string]bool{}
	for _, t := range c.Tests {
		for _, k := range []string{"id " + t.ID, "key " + t.Key} {
			if seen[k] {
				return nil, fmt.Errorf("%w: duplicate %s", ErrCorpus, k)
			}
			seen[k] = true
		}
	}
	return c, nil
}

// readJSON decodes path into v; a missing file is not an error but
// reported by ok.
func readJSON(path string, v any) (ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrCorpus, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%w: %s: %w", ErrCorpus, path, err)
	}
	return true, nil
}

func (a atomicJSON) test(i int) (Test, error) {
	t := Test{
		ID:                fmt.Sprintf("A%02d", i+1),
		Key:               a.GUID,
		Kind:              KindAtomic,
		Name:              a.Name,
		Technique:         a.Technique,
		Legacy:            a.LegacyTechnique,
		Tactic:            a.Tactic,
		Tactics:           a.Tactics,
		LegacyTactics:     a.LegacyTactics,
		Signal:            a.Signal,
		Shell:             orDefault(a.Shell, "sh"),
		Command:           a.Command,
		Rootfs:            RootfsDebian,
		BusyboxCompatible: a.BusyboxCompatible,
		Destructive:       a.Destructive || strings.Contains(a.Caveats, "DESTRUCTIVE"),
	}
	if a.Setup != nil {
		t.Setup = *a.Setup
	}
	if t.Key == "" {
		t.Key = t.ID
	}
	if !techniqueID.MatchString(t.Technique) || t.Legacy != "" && !techniqueID.MatchString(t.Legacy) {
		return Test{}, fmt.Errorf("technique %q / legacy %q is not an ATT&CK id", t.Technique, t.Legacy)
	}
	if t.Tactic == "" {
		if len(t.Tactics) == 0 {
			return Test{}, errors.New("no tactic")
		}
		t.Tactic = t.Tactics[0]
	}
	t.LegacyTactic = legacyTactic(t.Tactic, t.Tactics, t.LegacyTactics)
	if strings.TrimSpace(t.Command) == "" {
		return Test{}, errors.New("empty command")
	}
	var err error
	if t.Packages, err = cleanPackages(a.DebianPackages); err != nil {
		return Test{}, err
	}
	if t.Timeout, err = timeout(a.TimeoutSeconds, a.Validation); err != nil {
		return Test{}, err
	}
	return t, nil
}

func (b controlJSON) test() (Test, error) {
	t := Test{
		ID:      b.ID,
		Key:     b.ID,
		Kind:    KindControl,
		Name:    b.Name,
		Shell:   orDefault(b.Shell, "sh"),
		Command: b.Command,
		Rootfs:  RootfsDebian,
	}
	if b.Setup != nil {
		t.Setup = *b.Setup
	}
	if t.ID == "" {
		return Test{}, errors.New("no id")
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(b.Rootfs)), "busybox") {
		t.Rootfs, t.BusyboxCompatible = RootfsBusybox, true
	}
	if strings.TrimSpace(t.Command) == "" {
		return Test{}, errors.New("empty command")
	}
	var err error
	if t.Packages, err = cleanPackages(b.DebianPackages); err != nil {
		return Test{}, err
	}
	if t.Timeout, err = timeout(b.TimeoutSeconds, b.Validation); err != nil {
		return Test{}, err
	}
	if b.Build != "" || len(b.BuildSource) > 0 {
		if t.Build, err = parseGoBuild(b.Build, b.BuildSource); err != nil {
			return Test{}, err
		}
	}
	return t, nil
}

var techniqueID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// legacyTactic is the v18 view of the primary tactic: itself when v18 has
// it, else the one v18 tactic the v19 list lacks (defense-evasion for
// stealth and defense-impairment).
func legacyTactic(primary string, tactics, legacy []string) string {
	if len(legacy) == 0 || slices.Contains(legacy, primary) {
		return primary
	}
	var only []string
	for _, l := range legacy {
		if !slices.Contains(tactics, l) {
			only = append(only, l)
		}
	}
	if len(only) == 1 {
		return only[0]
	}
	return legacy[0]
}

// pkgName is Debian policy's package name.
var pkgName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// cleanPackages reads package lists written for people: "busybox-static
// (or busybox)", "cron (provides /etc/cron.d)". The first word is the
// package; one marked optional or needed only to build is left out.
func cleanPackages(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		name, note, _ := strings.Cut(strings.TrimSpace(p), " ")
		note = strings.ToLower(note)
		if name == "" || strings.Contains(note, "optional") || strings.Contains(note, "build stage") {
			continue
		}
		if !pkgName.MatchString(name) {
			return nil, fmt.Errorf("package %q is not a Debian package name", p)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// Bounds of a derived timeout.
const (
	minTimeout = 5 * time.Second
	maxTimeout = 3 * time.Minute
)

// timeout is the test's own limit when it states one. Otherwise it comes
// from the corpus author's validation run: a run that itself timed out
// (rc 124) never ends on its own, so about as long as that run is enough to
// see it; any other gets several times its wall time, and at least
// DefaultTimeout, because images and tracing here are heavier.
func timeout(seconds float64, v validation) (time.Duration, error) {
	if seconds > 0 {
		return min(time.Duration(seconds*float64(time.Second)), maxTimeout), nil
	}
	if v.Wall == "" {
		return DefaultTimeout, nil
	}
	wall, err := time.ParseDuration(strings.TrimSpace(v.Wall))
	if err != nil || wall < 0 {
		return 0, fmt.Errorf("validation wall time %q: not a duration", v.Wall)
	}
	secs := func(s float64) time.Duration { return time.Duration(math.Ceil(s)) * time.Second }
	if rc, _ := strconv.Atoi(strings.TrimSpace(v.RC)); rc == 124 {
		return min(max(secs(wall.Seconds())+2*time.Second, minTimeout), maxTimeout), nil
	}
	return min(max(secs(3*wall.Seconds())+10*time.Second, DefaultTimeout), maxTimeout), nil
}

// goBuildCmd finds the output path in a `go build ... -o PATH ...` line.
var goBuildOutput = regexp.MustCompile(`(?:^|\s)-o[ =](\S+)`)
var goModModule = regexp.MustCompile(`module\s+([^\s,]+)`)

// parseGoBuild understands the one kind of build the format has: a static
// `go build` of the sources given, installed at its -o path.
func parseGoBuild(cmd string, sources map[string]string) (*GoBuild, error) {
	line, comment, _ := strings.Cut(cmd, "#")
	if !strings.Contains(line, "go build") {
		return nil, fmt.Errorf("build %q: only `go build` is supported", cmd)
	}
	m := goBuildOutput.FindStringSubmatch(line)
	if m == nil || !strings.HasPrefix(m[1], "/") {
		return nil, fmt.Errorf("build %q: no absolute -o path", cmd)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("build %q: no build_source", cmd)
	}
	b := &GoBuild{Output: m[1], Module: "example.invalid/build", Sources: sources}
	if mm := goModModule.FindStringSubmatch(comment); mm != nil {
		b.Module = mm[1]
	}
	for name := range sources {
		if name != filepath.Base(name) || name == "." || name == ".." {
			return nil, fmt.Errorf("build source %q: only plain file names", name)
		}
	}
	return b, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
