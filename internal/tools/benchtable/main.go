// Command benchtable reads `go test -bench` output on stdin and prints a
// table: one row per benchmark with its ns/op, custom metrics, and the
// ratio against the baseline measured in the same run. A sub-benchmark is
// a baseline when its name starts with "bare", "baseline" or "none"; its
// siblings are compared with it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	rows, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	write(os.Stdout, rows)
}

type row struct {
	pkg     string
	name    string // without the -GOMAXPROCS suffix
	nsPerOp float64
	metrics []metric
}

type metric struct {
	value float64
	unit  string
}

func parse(r io.Reader) ([]row, error) {
	var rows []row
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		rw := row{pkg: pkg, name: trimProcs(f[0])}
		for i := 2; i+1 < len(f); i += 2 {
			var v float64
			if _, err := fmt.Sscan(f[i], &v); err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
			if f[i+1] == "ns/op" {
				rw.nsPerOp = v
				continue
			}
			rw.metrics = append(rw.metrics, metric{v, f[i+1]})
		}
		rows = append(rows, rw)
	}
	return rows, sc.Err()
}

func trimProcs(name string) string {
	if i := strings.LastIndex(name, "-"); i > 0 && strings.Trim(name[i+1:], "0123456789") == "" {
		return name[:i]
	}
	return name
}

// baseline finds the baseline sibling of a sub-benchmark.
func baseline(rows []row, r row) (row, bool) {
	parent, _, ok := cutLast(r.name, "/")
	if !ok {
		return row{}, false
	}
	for _, o := range rows {
		p, leaf, _ := cutLast(o.name, "/")
		if o.pkg == r.pkg && p == parent && isBaseline(leaf) {
			return o, true
		}
	}
	return row{}, false
}

func isBaseline(leaf string) bool {
	for _, p := range []string{"bare", "baseline", "none"} {
		if strings.HasPrefix(leaf, p) {
			return true
		}
	}
	return false
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func write(w io.Writer, rows []row) {
	fmt.Fprintf(w, "%-52s %14s %10s  %s\n", "benchmark", "time/op", "vs base", "metrics")
	for _, r := range rows {
		ratio := ""
		if b, ok := baseline(rows, r); ok && b.nsPerOp > 0 {
			ratio = fmt.Sprintf("%.2fx", r.nsPerOp/b.nsPerOp)
		}
		var ms []string
		for _, m := range r.metrics {
			ms = append(ms, fmt.Sprintf("%s %s", strconv.FormatFloat(m.value, 'f', -1, 64), m.unit))
		}
		fmt.Fprintf(w, "%-52s %14s %10s  %s\n", r.name, human(r.nsPerOp), ratio, strings.Join(ms, ", "))
	}
}

func human(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.3fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}
