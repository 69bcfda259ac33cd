package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandscan/sandscan/store"
)

// NewStore returns an empty store for one test.
type NewStore func(t *testing.T) store.Store

// Run runs the whole suite against the backend newStore makes.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"UnknownSize", testUnknownSize},
		{"Empty", testEmpty},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"InvalidKeys", testInvalidKeys},
		{"FailedPutKeepsOld", testFailedPutKeepsOld},
		{"SizeMismatch", testSizeMismatch},
		{"CancelledPut", testCancelledPut},
		{"ReadersSeeWholeObjects", testReadersSeeWholeObjects},
		{"List", testList},
		{"ListPages", testListPages},
		{"Delete", testDelete},
		{"Gzip", testGzip},
		{"JSON", testJSON},
		{"Verdicts", testVerdicts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func put(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t *testing.T, s store.Store, key string) ([]byte, store.Info) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b, info
}

// pattern is n bytes that differ by seed and position.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func testRoundTrip(t *testing.T, s store.Store) {
	key := "analyses/abc/report.json"
	data := pattern(1, 300<<10)
	before := time.Now().Add(-time.Minute)
	put(t, s, key, data)
	got, info := get(t, s, key)
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, differing from the %d written", len(got), len(data))
	}
	if info.Key != key || info.Size != int64(len(data)) {
		t.Fatalf("get info %+v", info)
	}
	st, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Key != key || st.Size != int64(len(data)) || st.Modified.Before(before) || st.Modified.After(time.Now().Add(time.Minute)) {
		t.Fatalf("stat %+v", st)
	}
}

func testUnknownSize(t *testing.T, s store.Store) {
	data := pattern(2, 1<<20+17)
	// A reader that is neither a Seeker nor sized: the backend must cope.
	r := io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:]))
	if err := s.Put(t.Context(), "images/sha256/unknown.tar", r, -1); err != nil {
		t.Fatal(err)
	}
	if got, info := get(t, s, "images/sha256/unknown.tar"); !bytes.Equal(got, data) || info.Size != int64(len(data)) {
		t.Fatalf("read back %d bytes (info %d), want %d", len(got), info.Size, len(data))
	}
}

func testEmpty(t *testing.T, s store.Store) {
	put(t, s, "analyses/abc/stderr", nil)
	if got, info := get(t, s, "analyses/abc/stderr"); len(got) != 0 || info.Size != 0 {
		t.Fatalf("empty object read back as %d bytes, size %d", len(got), info.Size)
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	put(t, s, "verdicts/x/latest.json", []byte("first version, longer than the second"))
	put(t, s, "verdicts/x/latest.json", []byte("second"))
	if got, _ := get(t, s, "verdicts/x/latest.json"); string(got) != "second" {
		t.Fatalf("after overwrite: %q", got)
	}
}

func testMissing(t *testing.T, s store.Store) {
	put(t, s, "a/b", []byte("x"))
	for _, key := range []string{"nothing", "a/c", "a/b/c", "a"} {
		if _, _, err := s.Get(t.Context(), key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get %s: %v, want ErrNotFound", key, err)
		}
		if _, err := s.Stat(t.Context(), key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stat %s: %v, want ErrNotFound", key, err)
		}
	}
}

// BadKeys are keys every backend refuses.
var BadKeys = []string{
	"", "/abs", "trailing/", "a//b", "../etc/passwd", "a/../../b", "a/./b", ".hidden", "a/.tmp-x",
	"back\\slash", "sp ace", "new\nline", "nul\x00", "q?uery", "h#ash", "ü",
	strings.Repeat("a", store.MaxKeyLen+1), strings.Repeat("a", store.MaxSegmentLen+1) + "/b",
}

func testInvalidKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, key := range BadKeys {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("put %.40q: %v, want ErrInvalid", key, err)
		}
		if _, _, err := s.Get(ctx, key); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("get %.40q: %v, want ErrInvalid", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("stat %.40q: %v, want ErrInvalid", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("delete %.40q: %v, want ErrInvalid", key, err)
		}
	}
	for _, prefix := range []string{"/", "../", "a//", "a/.", strings.Repeat("p", store.MaxKeyLen)} {
		if _, err := s.List(ctx, prefix, "", 10); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("list %.40q: %v, want ErrInvalid", prefix, err)
		}
	}
	if _, err := s.List(ctx, "", "", 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("list with limit 0: %v, want ErrInvalid", err)
	}
	if infos, err := s.List(ctx, "", "", 10); err != nil || len(infos) != 0 {
		t.Errorf("refused keys left objects: %v %v", infos, err)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range k {
		p[i] = 'z'
	}
	f.n -= k
	return k, nil
}

func testFailedPutKeepsOld(t *testing.T, s store.Store) {
	key := "analyses/abc/report.json"
	put(t, s, key, []byte("old report"))
	boom := errors.New("writer died")
	for _, size := range []int64{-1, 2 << 20} {
		err := s.Put(t.Context(), key, &failingReader{n: 1 << 20, err: boom}, size)
		if err == nil {
			t.Fatalf("put from a failing reader (size %d) succeeded", size)
		}
		if got, _ := get(t, s, key); string(got) != "old report" {
			t.Fatalf("after a failed put (size %d): %d bytes %.20q, want the old object", size, len(got), got)
		}
	}
	if err := s.Put(t.Context(), "analyses/abc/new.json", &failingReader{n: 10, err: boom}, -1); err == nil {
		t.Fatal("put from a failing reader succeeded")
	}
	if _, err := s.Stat(t.Context(), "analyses/abc/new.json"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed first put left an object: %v", err)
	}
}

func testSizeMismatch(t *testing.T, s store.Store) {
	put(t, s, "k", []byte("keep"))
	if err := s.Put(t.Context(), "k", strings.NewReader("short"), 100); err == nil {
		t.Fatal("put with a size larger than the data succeeded")
	}
	if got, _ := get(t, s, "k"); string(got) != "keep" {
		t.Fatalf("after a short put: %q", got)
	}
}

func testCancelledPut(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 64<<10))
		cancel()
		time.Sleep(100 * time.Millisecond)
		pw.Write(make([]byte, 64<<10))
		pw.Close()
	}()
	if err := s.Put(ctx, "cancelled", pr, -1); err == nil {
		t.Fatal("put with a cancelled context succeeded")
	}
	pr.Close()
	if _, err := s.Stat(t.Context(), "cancelled"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a cancelled put left an object: %v", err)
	}
}

// testReadersSeeWholeObjects: readers racing a writer that alternates two
// versions only ever see one version or the other, whole.
func testReadersSeeWholeObjects(t *testing.T, s store.Store) {
	key := "analyses/race/report.json"
	versions := [][]byte{bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20+333)}
	put(t, s, key, versions[0])
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ctx.Err() == nil; i++ {
			v := versions[i%2]
			if err := s.Put(ctx, key, bytes.NewReader(v), int64(len(v))); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	})
	var reads sync.Map
	for range 3 {
		wg.Go(func() {
			for ctx.Err() == nil {
				rc, _, err := s.Get(ctx, key)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("get during writes: %v", err)
					}
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("read during writes: %v", err)
					}
					return
				}
				if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					t.Errorf("read a torn object: %d bytes", len(b))
					return
				}
				reads.Store(b[0], true)
			}
		})
	}
	wg.Wait()
	if _, ok := reads.Load(byte('a')); !ok {
		t.Error("no reader saw the first version")
	}
}

// listKeys are stored by the list tests, deliberately out of order and
// with keys whose order differs from a naive directory walk's.
var listKeys = []string{
	"b", "a-c", "a/b", "a/a/x", "a.b", "a/c/d/e", "ab/c", "z", "a/b0", "images/sha256/01.tar", "images/sha256/00.tar",
}

func keysOf(infos []store.Info) []string {
	var ks []string
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return ks
}

func testList(t *testing.T, s store.Store) {
	for i, k := range listKeys {
		put(t, s, k, pattern(byte(i), i+1))
	}
	sorted := slices.Sorted(slices.Values(listKeys))
	tests := []struct {
		prefix, after string
		limit         int
		want          []string
	}{
		{"", "", 100, sorted},
		{"a/", "", 100, []string{"a/a/x", "a/b", "a/b0", "a/c/d/e"}},
		{"a", "", 100, []string{"a-c", "a.b", "a/a/x", "a/b", "a/b0", "a/c/d/e", "ab/c"}},
		{"a/b", "", 100, []string{"a/b", "a/b0"}},
		{"a/", "a/b", 100, []string{"a/b0", "a/c/d/e"}},
		{"", "a/b0", 3, []string{"a/c/d/e", "ab/c", "b"}},
		{"images/sha256/", "", 1, []string{"images/sha256/00.tar"}},
		{"nothing/", "", 10, nil},
		{"", "zz", 10, nil},
	}
	for _, tt := range tests {
		infos, err := s.List(t.Context(), tt.prefix, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("list %q after %q: %v", tt.prefix, tt.after, err)
		}
		if got := keysOf(infos); !slices.Equal(got, tt.want) {
			t.Errorf("list %q after %q limit %d:\n got %q\nwant %q", tt.prefix, tt.after, tt.limit, got, tt.want)
		}
	}
	infos, _ := s.List(t.Context(), "z", "", 10)
	if len(infos) != 1 || infos[0].Size != int64(slices.Index(listKeys, "z")+1) || infos[0].Modified.IsZero() {
		t.Errorf("list info %+v", infos)
	}
}

func testListPages(t *testing.T, s store.Store) {
	var want []string
	for i := range 23 {
		k := fmt.Sprintf("analyses/p%02d/report.json", i)
		want = append(want, k)
		put(t, s, k, []byte("{}"))
	}
	put(t, s, "other/x", []byte("x"))
	var got []string
	for info, err := range store.All(t.Context(), s, "analyses/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, info.Key)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("All: %q", got)
	}
	var paged []string
	after := ""
	for {
		page, err := s.List(t.Context(), "analyses/", after, 5)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, keysOf(page)...)
		if len(page) < 5 {
			break
		}
		after = page[len(page)-1].Key
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("pages of 5: %q", paged)
	}
}

func testDelete(t *testing.T, s store.Store) {
	put(t, s, "analyses/del/stdout", []byte("out"))
	put(t, s, "analyses/del/files/x", []byte("x"))
	if err := s.Delete(t.Context(), "analyses/del/stdout"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), "analyses/del/stdout"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stat after delete: %v", err)
	}
	if err := s.Delete(t.Context(), "analyses/del/stdout"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.Delete(t.Context(), "analyses/del/files/x"); err != nil {
		t.Fatal(err)
	}
	if infos, err := s.List(t.Context(), "", "", 10); err != nil || len(infos) != 0 {
		t.Fatalf("after deleting everything: %v %v", keysOf(infos), err)
	}
	// What a delete emptied can be written again, as object or as prefix.
	put(t, s, "analyses/del", []byte("now an object"))
	if got, _ := get(t, s, "analyses/del"); string(got) != "now an object" {
		t.Fatalf("got %q", got)
	}
}
