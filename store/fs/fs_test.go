package fs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandscan/sandscan/store"
	"github.com/sandscan/sandscan/store/storetest"
)

func newStore(t *testing.T) store.Store {
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, newStore)
}

// Temporary files of failed or in-flight puts are neither listed nor left.
func TestNoTempFilesLeft(t *testing.T) {
	s := newStore(t).(*Store)
	if err := s.Put(t.Context(), "a/b", strings.NewReader("short"), 10); err == nil {
		t.Fatal("short put succeeded")
	}
	if err := os.WriteFile(filepath.Join(s.Root(), "a", tempPrefix+"crashed"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	infos, err := s.List(t.Context(), "", "", 10)
	if err != nil || len(infos) != 0 {
		t.Fatalf("listed %+v %v", infos, err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "a"))
	if len(entries) != 1 || entries[0].Name() != tempPrefix+"crashed" {
		t.Fatalf("a failed put left files: %v", entries)
	}
}

func TestKeyConflicts(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	tests := []string{"a", "a/b/c"}
	for _, key := range tests {
		err := s.Put(ctx, key, strings.NewReader("y"), 1)
		if err == nil {
			t.Errorf("put %s beside a/b succeeded", key)
		}
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Errorf("delete of a directory-only key: %v", err)
	}
	if _, err := s.Stat(ctx, "a/b"); err != nil {
		t.Errorf("a/b after the conflicts: %v", err)
	}
}

func TestDeleteRemovesEmptyDirs(t *testing.T) {
	s := newStore(t).(*Store)
	ctx := t.Context()
	s.Put(ctx, "x/y/z", strings.NewReader("1"), 1)
	s.Put(ctx, "x/keep", strings.NewReader("1"), 1)
	if err := s.Delete(ctx, "x/y/z"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "x", "y")); !os.IsNotExist(err) {
		t.Errorf("empty x/y left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "x", "keep")); err != nil {
		t.Errorf("x/keep gone: %v", err)
	}
	if _, err := os.Stat(s.Root()); err != nil {
		t.Errorf("root gone: %v", err)
	}
}

func BenchmarkPutGet1MiB(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	storetest.BenchPutGet(b, s)
}
