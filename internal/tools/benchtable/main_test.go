package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/sandscan/sandscan/sandbox
BenchmarkRun/sandscan-2         	      10	 653645467 ns/op	       290.1 create-ms/op	       154.0 import-ms/op
BenchmarkRun/bare-runsc-2       	      10	 177031102 ns/op
BenchmarkDecode-2   	 1000000	      1200 ns/op	    833333 events/s
PASS
`

func TestParseAndWrite(t *testing.T) {
	rows, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].name != "BenchmarkRun/sandscan" || rows[0].nsPerOp != 653645467 || len(rows[0].metrics) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	var buf bytes.Buffer
	write(&buf, rows)
	out := buf.String()
	for _, want := range []string{"3.69x", "1.00x", "653.65ms", "833333 events/s", "290.1 create-ms/op"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(strings.Split(out, "\n")[3], "x ") {
		t.Errorf("a benchmark without baseline got a ratio:\n%s", out)
	}
}
