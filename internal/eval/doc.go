// Package eval measures the analyzer against a corpus of labelled
// workloads: malicious atomic tests (Atomic Red Team style, each naming
// the ATT&CK technique it exercises) and benign controls. It builds one
// image per test (a cached Debian or busybox base plus a small layer with
// the test's script), detonates each in the real sandbox, analyzes the Run
// and scores the report: per-test detection (exact, sub-technique, parent
// technique as partial credit), recall per tactic and per signal tier,
// false positives on the controls. Runs are saved so the analyzer can be
// re-scored without detonating anything again. It is a benchmark, not a
// test: nothing here gates CI.
package eval
