package embedded

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/queuetest"
)

func TestMain(m *testing.M) {
	queuetest.ChildMain(func(arg string) (queue.Queue, error) {
		var c childConfig
		if err := json.Unmarshal([]byte(arg), &c); err != nil {
			return nil, err
		}
		return Open(c.Path, c.Config, nil)
	})
	os.Exit(m.Run())
}

type childConfig struct {
	Path   string
	Config queue.Config
}

// env is one queue file; a restart is closing and opening it again, which
// Open does anyway.
type env struct {
	path string
	cfg  queue.Config
}

func newEnv(t *testing.T, cfg queue.Config) queuetest.Env {
	return &env{path: filepath.Join(t.TempDir(), "queue.db"), cfg: cfg}
}

func (e *env) Open(t testing.TB) queue.Queue {
	t.Helper()
	q, err := Open(e.path, e.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (e *env) Restart(testing.TB) {}

func (e *env) ChildArg() string {
	b, _ := json.Marshal(childConfig{e.path, e.cfg})
	return string(b)
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, newEnv)
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := Open(path, queue.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	// bbolt's flock is per open file, so a second Open in one process
	// meets it just as another process would.
	if q2, err := Open(path, queue.Config{}, nil); err == nil {
		q2.Close()
		t.Fatal("a second Open of a file in use succeeded")
	}
}

func TestOpenBadPath(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "queue.db"), queue.Config{}, nil); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}
