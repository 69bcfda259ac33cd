package fsdiff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

// collectArtifacts copies the changed regular files worth keeping, within
// the artifact limits: ELF binaries, then scripts, then other executables,
// then the rest, each group in path order. Files with the same content
// share one artifact.
func (w *walker) collectArtifacts() {
	var cands []int
	for i, it := range w.items {
		if it.src != nil && it.fc.Size > 0 {
			cands = append(cands, i)
		}
	}
	slices.SortStableFunc(cands, func(a, b int) int {
		return int(w.items[a].src.class) - int(w.items[b].src.class)
	})
	byHash := map[string]string{}
	left := w.lim.ArtifactTotal
	skipped := 0
	for _, i := range cands {
		it := &w.items[i]
		if name, ok := byHash[it.fc.SHA256]; ok && it.fc.SHA256 != "" {
			it.fc.Artifact = name
			continue
		}
		if len(w.arts) >= w.lim.ArtifactCount || left <= 0 {
			skipped++
			continue
		}
		a, err := w.readArtifact(it, min(w.lim.ArtifactMax, left))
		if err != nil {
			w.errorf("%s: artifact: %v", it.fc.Path, err)
			continue
		}
		left -= int64(len(a.Data))
		w.arts = append(w.arts, a)
		it.fc.Artifact = a.Name
		if it.fc.SHA256 != "" {
			byHash[it.fc.SHA256] = a.Name
		}
	}
	if skipped > 0 {
		w.errorf("artifacts: %d changed files not kept (limits: %d files, %d bytes)",
			skipped, w.lim.ArtifactCount, w.lim.ArtifactTotal)
	}
}

// readArtifact copies at most max bytes of a changed file. Its SHA256 is
// the file's when the walk hashed it, else that of the bytes kept.
func (w *walker) readArtifact(it *item, max int64) (trace.Artifact, error) {
	src := it.src
	d, err := src.l.openDir(src.rel)
	if err != nil {
		return trace.Artifact{}, err
	}
	defer d.close()
	f, err := d.openFile(src.name, &src.st)
	if err != nil {
		return trace.Artifact{}, err
	}
	defer f.Close()
	want := min(src.st.Size, max)
	data := make([]byte, want)
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF {
		return trace.Artifact{}, err
	}
	data = data[:n]
	sum := it.fc.SHA256
	dataSum := sha256.Sum256(data)
	if int64(n) == src.st.Size && sum != "" && sum != hex.EncodeToString(dataSum[:]) {
		return trace.Artifact{}, errFileChanged
	}
	if sum == "" {
		sum = hex.EncodeToString(dataSum[:])
	}
	return trace.Artifact{
		Name:      ArtifactName(sum, src.name),
		Path:      it.fc.Path,
		Size:      src.st.Size,
		SHA256:    sum,
		Data:      data,
		Truncated: int64(n) < src.st.Size,
	}, nil
}

// ArtifactName names the artifact of a file: "files/", the first 16 hex
// digits of its SHA256, "-", and its base name reduced to a safe set of
// bytes (letters, digits, ".", "_", "-", "+"; at most 64 of them), since
// the name is the file's, chosen by the sandboxed workload, and is used as
// a storage key.
func ArtifactName(sha256hex, base string) string {
	return fmt.Sprintf("files/%.16s-%s", sha256hex, safeName(base))
}

func safeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == '+':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "file"
	}
	return b.String()
}
