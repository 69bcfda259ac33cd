// Command corpus detonates the training corpus's variants in the sandbox
// and stores their runs with a labels manifest:
//
//	go run ./internal/tools/corpus -out models/corpus [-only NAME,...] [-force]
//	go run ./internal/tools/corpus -out models/corpus -index   # manifest of the runs stored
//
// It sets the runtime up first (as `sandscan setup` does), needs root, and
// resumes: runs already stored are kept. See internal/corpus.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sandscan/sandscan/internal/corpus"
	"github.com/sandscan/sandscan/sandbox"
	"github.com/sandscan/sandscan/sandbox/setup"
)

func main() {
	var cfg corpus.Config
	var only string
	var list, index bool
	state := os.Getenv(setup.EnvStateDir)
	if state == "" {
		state = setup.DefaultStateDir
	}
	flag.StringVar(&cfg.Out, "out", "models/corpus", "corpus directory")
	flag.StringVar(&cfg.CacheDir, "cache", filepath.Join(state, "corpus-cache"), "cache for the Debian tree, base images and registry blobs")
	flag.StringVar(&cfg.Busybox, "busybox", "/bin/busybox", "static busybox for the busybox base")
	flag.StringVar(&only, "only", "", "comma-separated variant names, groups or labels to (re)run")
	flag.BoolVar(&cfg.Force, "force", false, "re-run variants whose run is stored")
	flag.BoolVar(&list, "list", false, "list the variants and exit")
	flag.BoolVar(&index, "index", false, "only write the manifest of the runs already stored")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Log = log
	if list {
		for _, v := range corpus.Variants() {
			os.Stdout.WriteString(v.Label + "\t" + v.Group + "\t" + v.Name + "\t" + string(v.Base) + "\n")
		}
		return
	}
	if index {
		if err := corpus.WriteIndex(cfg.Out); err != nil {
			log.Error("corpus", "err", err)
			os.Exit(1)
		}
		return
	}
	if only != "" {
		cfg.Only = strings.Split(only, ",")
	}
	if err := run(cfg, state); err != nil {
		log.Error("corpus", "err", err)
		os.Exit(1)
	}
}

func run(cfg corpus.Config, state string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return err
	}
	cfg.ModuleRoot = filepath.Dir(strings.TrimSpace(string(out)))
	env, err := setup.Ensure(ctx, setup.Config{StateDir: state, Logger: cfg.Log})
	if err != nil {
		return err
	}
	sb, err := sandbox.New(ctx, sandbox.RuntimeOf(env), sandbox.WithLogger(cfg.Log))
	if err != nil {
		return err
	}
	defer sb.Close()
	return corpus.Generate(ctx, sb, cfg)
}
