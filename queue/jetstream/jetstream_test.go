package jetstream

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/sandscan/sandscan/internal/testservers"
	"github.com/sandscan/sandscan/queue"
	"github.com/sandscan/sandscan/queue/queuetest"
)

func TestMain(m *testing.M) {
	queuetest.ChildMain(func(arg string) (queue.Queue, error) {
		var c childConfig
		if err := json.Unmarshal([]byte(arg), &c); err != nil {
			return nil, err
		}
		return Connect(context.Background(), c.URL, c.Config, nil)
	})
	os.Exit(m.Run())
}

type childConfig struct {
	URL    string
	Config Config
}

// env is one nats-server of its own, so every test starts empty.
type env struct {
	srv *testservers.NATSServer
	cfg Config
}

func newEnv(t *testing.T, cfg queue.Config) queuetest.Env {
	return &env{srv: testservers.NATS(t), cfg: Config{Config: cfg}}
}

func (e *env) Open(t testing.TB) queue.Queue {
	t.Helper()
	q, err := Connect(t.Context(), e.srv.URL, e.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (e *env) Restart(t testing.TB) {
	e.srv.Stop()
	e.srv.Start(t)
}

func (e *env) ChildArg() string {
	b, _ := json.Marshal(childConfig{e.srv.URL, e.cfg})
	return string(b)
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, newEnv)
}
