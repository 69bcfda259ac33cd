package main

import (
	"context"
	"fmt"

	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/setup"
)

type setupFlags struct {
	stop bool
}

func runSetup(ctx context.Context, g *globals, args []string) error {
	var f setupFlags
	fs := newFlagSet("setup")
	fs.BoolVar(&f.stop, "stop", false, "stop the project's containerd instead")
	if _, err := parseInterspersed(fs, args); err != nil {
		return withCode(ExitUsage, err)
	}
	cfg := g.setupConfig()
	if f.stop {
		return setup.Stop(ctx, cfg)
	}
	env, err := setup.Ensure(ctx, cfg)
	if err != nil {
		return withCode(ExitSandbox, err)
	}
	fmt.Fprintf(g.stdout, "containerd %s at %s\nrunsc %s (%s)\n", env.ContainerdVersion, env.Address, env.RunscVersion, env.Platform)
	return nil
}

func (g *globals) setupConfig() setup.Config {
	return setup.Config{StateDir: g.stateDir, Logger: g.log}
}

// ensureRuntime sets up (quickly, when already done) and describes the
// runtime for the sandbox.
func (g *globals) ensureRuntime(ctx context.Context) (sandbox.Runtime, error) {
	env, err := setup.Ensure(ctx, g.setupConfig())
	if err != nil {
		return sandbox.Runtime{}, withCode(ExitSandbox, err)
	}
	return sandbox.RuntimeOf(env), nil
}
