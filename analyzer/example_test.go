package analyzer_test

import (
	"fmt"
	"os"
	"time"

	"github.com/sandscan/sandscan/analyzer"
	"github.com/sandscan/sandscan/trace"
)

// A shell that reads /etc/shadow with cat and plants a cron entry.
func Example() {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &trace.Run{
		Schema: trace.RunSchema, ID: "example", Image: trace.Image{Ref: "example:latest"},
		Events: []trace.Event{
			{Seq: 1, Time: t, Kind: trace.KindStart, PID: 1, Argv: []string{"sh", "-c", "cat /etc/shadow; echo x > /etc/cron.d/x"}},
			{Seq: 2, Time: t, Kind: trace.KindClone, PID: 1, Child: 2},
			{Seq: 3, Time: t, Kind: trace.KindExec, PID: 2, Path: "/bin/cat", Argv: []string{"cat", "/etc/shadow"}},
			{Seq: 4, Time: t, Kind: trace.KindOpen, PID: 2, Path: "/etc/shadow"},
			{Seq: 5, Time: t, Kind: trace.KindOpen, PID: 1, Path: "/etc/cron.d/x", Flags: 01101},
		},
	}
	rep, err := analyzer.New().Analyze(run)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(rep.Verdict, rep.Score)
	for _, tech := range rep.Techniques {
		fmt.Println(tech.ID, tech.Name, tech.Findings)
	}
	// Output:
	// malicious 0.91
	// T1003.008 /etc/passwd and /etc/shadow [F001]
	// T1053.003 Cron [F002]
}
