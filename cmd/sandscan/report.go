package main

import (
	"fmt"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// report is the JSON contract of DESIGN.md as far as the sandbox alone can
// fill it: until the analyzer lands the verdict is "unknown".
type report struct {
	Schema         string         `json:"schema"`
	ID             string         `json:"id"`
	Image          reportImage    `json:"image"`
	Verdict        string         `json:"verdict"`
	Score          float64        `json:"score"`
	Techniques     []any          `json:"techniques"`
	Findings       []any          `json:"findings"`
	Classification map[string]any `json:"classification"`
	Sandbox        reportSandbox  `json:"sandbox"`
	Analyzer       map[string]any `json:"analyzer"`
}

type reportImage struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

type reportSandbox struct {
	Runtime        string  `json:"runtime"`
	RuntimeVersion string  `json:"runtime_version"`
	Containerd     string  `json:"containerd_version"`
	Platform       string  `json:"platform"`
	Network        string  `json:"network"`
	Duration       float64 `json:"duration"`
	ExitCode       int     `json:"exit_code"`
	TimedOut       bool    `json:"timed_out"`
	Events         uint64  `json:"events"`
	Dropped        uint64  `json:"dropped_events"`
}

func reportOf(run *trace.Run) *report {
	return &report{
		Schema:         "sandscan.report/v1",
		ID:             run.ID,
		Image:          reportImage{Ref: run.Image.Ref, Digest: run.Image.Digest},
		Verdict:        "unknown",
		Techniques:     []any{},
		Findings:       []any{},
		Classification: map[string]any{"label": "unknown", "probability": 0, "model": "none"},
		Sandbox: reportSandbox{
			Runtime: run.Sandbox.Runtime, RuntimeVersion: run.Sandbox.RuntimeVersion,
			Containerd: run.Sandbox.ContainerdVersion, Platform: run.Sandbox.Platform,
			Network: run.Sandbox.Network, Duration: run.Timings.Total.Std().Seconds(),
			ExitCode: run.Exit.Code, TimedOut: run.Exit.TimedOut,
			Events: run.EventsTotal, Dropped: run.Dropped,
		},
		Analyzer: map[string]any{"analyzer": "none"},
	}
}

func summaryLine(name string, rep *report, run *trace.Run) string {
	var tech []string
	return fmt.Sprintf("%-22s %-10s %.2f  %-40s %6.1fs  events=%d exit=%d",
		name, rep.Verdict, rep.Score, strings.Join(tech, ","), run.Timings.Total.Std().Seconds(), run.EventsTotal, run.Exit.Code)
}
