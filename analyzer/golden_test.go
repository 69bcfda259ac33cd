package analyzer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/trace"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures and golden files")

// fixtures are the synthetic runs kept in testdata/run-*.json, made from
// the scenario builders so they can be regenerated with -update.
func fixtures() map[string]*trace.Run {
	m := map[string]*trace.Run{}
	for _, s := range sampleScenarios() {
		switch s.name {
		case "busybox-script without network":
			m["busybox-script"] = s.run
		case "miner with sinkhole":
			m["miner"] = s.run
		case "benign-web":
			m["benign-web"] = s.run
		}
	}
	for name, r := range m {
		r.ID = "run-" + name
		r.Image.Ref = "sandscan.test/" + name + ":latest"
		sum := sha256.Sum256([]byte(name))
		r.Image.Digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	return m
}

func loadFixture(t testing.TB, name string) *trace.Run {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "run-"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := trace.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestFixturesUpToDate(t *testing.T) {
	for name, run := range fixtures() {
		var buf bytes.Buffer
		if err := trace.Encode(&buf, run); err != nil {
			t.Fatal(err)
		}
		compareGolden(t, filepath.Join("testdata", "run-"+name+".json"), buf.Bytes())
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", path, clip(string(got), 3000))
	}
}

// TestGoldenFormats analyzes each fixture and checks the three formats
// byte for byte against testdata/golden.
func TestGoldenFormats(t *testing.T) {
	for name := range fixtures() {
		run := loadFixture(t, name)
		rep, err := New().Analyze(run)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range Formats {
			var buf bytes.Buffer
			if err := f.Write(&buf, rep); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", "golden", name+goldenExt[f]), buf.Bytes())
		}
	}
}

var goldenExt = map[Format]string{FormatJSON: ".report.json", FormatSARIF: ".sarif", FormatNavigator: ".layer.json"}

// TestDeterminism analyzes the same run twice, and a decoded copy of it,
// and wants the same bytes every time.
func TestDeterminism(t *testing.T) {
	for name := range fixtures() {
		run := loadFixture(t, name)
		var first []byte
		for i := 0; i < 3; i++ {
			r := run
			if i == 2 {
				r = loadFixture(t, name)
			}
			rep, err := New().Analyze(r)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, f := range Formats {
				if err := f.Write(&buf, rep); err != nil {
					t.Fatal(err)
				}
			}
			if i == 0 {
				first = buf.Bytes()
			} else if !bytes.Equal(first, buf.Bytes()) {
				t.Fatalf("%s: analysis %d differs from the first", name, i)
			}
		}
	}
}

// TestJSONContract checks the fields DESIGN.md promises.
func TestJSONContract(t *testing.T) {
	rep, err := New().Analyze(loadFixture(t, "busybox-script"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "id", "image", "verdict", "score", "techniques", "findings", "classification", "sandbox", "analyzer"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	if doc["schema"] != ReportSchema || doc["verdict"] != "malicious" {
		t.Errorf("schema %v verdict %v", doc["schema"], doc["verdict"])
	}
	img := doc["image"].(map[string]any)
	if img["ref"] == "" || img["digest"] == "" {
		t.Errorf("image %v", img)
	}
	cls := doc["classification"].(map[string]any)
	if cls["model"] != "none" || cls["label"] != "unknown" {
		t.Errorf("classification without a model: %v", cls)
	}
	for _, k := range []string{"runtime", "runtime_version", "platform", "network", "duration_seconds", "exit_code", "timed_out", "events", "dropped_events"} {
		if _, ok := doc["sandbox"].(map[string]any)[k]; !ok {
			t.Errorf("sandbox lacks %q", k)
		}
	}
	for _, k := range []string{"analyzer", "rules", "model"} {
		if _, ok := doc["analyzer"].(map[string]any)[k]; !ok {
			t.Errorf("analyzer lacks %q", k)
		}
	}
	ids := map[string]bool{}
	for _, f := range doc["findings"].([]any) {
		fm := f.(map[string]any)
		ids[fm["id"].(string)] = true
		for _, k := range []string{"id", "rule", "title", "severity", "techniques", "evidence"} {
			if _, ok := fm[k]; !ok {
				t.Errorf("finding lacks %q", k)
			}
		}
	}
	for _, tech := range doc["techniques"].([]any) {
		tm := tech.(map[string]any)
		for _, k := range []string{"id", "name", "tactics", "confidence", "findings"} {
			if _, ok := tm[k]; !ok {
				t.Errorf("technique lacks %q", k)
			}
		}
		for _, f := range tm["findings"].([]any) {
			if !ids[f.(string)] {
				t.Errorf("technique %v points to unknown finding %v", tm["id"], f)
			}
		}
	}
	back, err := ReadJSON(bytes.NewReader(buf.Bytes()))
	if err != nil || back.Verdict != rep.Verdict || len(back.Findings) != len(rep.Findings) {
		t.Errorf("round trip: %v", err)
	}
}

// TestSARIFSchema validates SARIF output against the OASIS schema (a copy
// is kept in testdata so the test needs nothing else).
func TestSARIFSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	schemaFile := filepath.Join("testdata", "sarif-schema-2.1.0.json")
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(schemaFile, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	for name := range fixtures() {
		rep, err := New().Analyze(loadFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteSARIF(&buf, rep); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: SARIF invalid: %v", name, err)
		}
		var log sarifLog
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		if got, want := len(log.Runs[0].Results), len(rep.Findings); got != want {
			t.Errorf("%s: %d results for %d findings", name, got, want)
		}
		for _, r := range log.Runs[0].Results {
			if rule := log.Runs[0].Tool.Driver.Rules[r.RuleIndex]; rule.ID != r.RuleID {
				t.Errorf("result %s points at rule %s", r.RuleID, rule.ID)
			}
		}
	}
	// The copy must stay the shared schema.
	shared, err := os.ReadFile("../../shared/schemas/sarif-schema-2.1.0.json")
	if err == nil {
		own, _ := os.ReadFile(schemaFile)
		if !bytes.Equal(shared, own) {
			t.Error("testdata/sarif-schema-2.1.0.json differs from shared/schemas")
		}
	}
}

// TestNavigatorLayer checks the layer against the 4.5 format's required
// fields and that every technique carries its evidence.
func TestNavigatorLayer(t *testing.T) {
	rep, err := New().Analyze(loadFixture(t, "busybox-script"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteNavigator(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var layer navLayer
	if err := json.Unmarshal(buf.Bytes(), &layer); err != nil {
		t.Fatal(err)
	}
	if layer.Name == "" || layer.Domain != "enterprise-attack" || layer.Versions.Layer != "4.5" || layer.Versions.Navigator < "4.9" {
		t.Errorf("layer header %+v", layer)
	}
	if len(layer.Techniques) != len(rep.Techniques) || len(layer.Techniques) == 0 {
		t.Fatalf("%d layer techniques for %d report techniques", len(layer.Techniques), len(rep.Techniques))
	}
	for _, tech := range layer.Techniques {
		if tech.Score <= 0 || tech.Score > 100 || !strings.Contains(tech.Comment, "F0") || len(tech.Metadata) == 0 {
			t.Errorf("technique %+v lacks score or evidence", tech)
		}
	}
}
