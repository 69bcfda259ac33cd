package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The stable key layout. Tools outside Sandscan may read these keys:
// add new ones, never move these.
//
//	images/sha256/<hex>.tar                       image archive, by manifest digest
//	analyses/<id>/<artifact>                      per analysis: run, report, formats, output
//	analyses/<id>/files/<escaped path>            files the image dropped
//	verdicts/sha256/<hex>/latest.json             the latest verdict of an image
//	verdicts/sha256/<hex>/history/<time>-<id>.json every verdict, oldest first

// Artifact names one of an analysis's objects.
type Artifact string

const (
	ArtifactRun       Artifact = "run.json.gz"    // the trace.Run, gzip-compressed JSON
	ArtifactReport    Artifact = "report.json"    // the sandscan.report/v1 document
	ArtifactSARIF     Artifact = "report.sarif"   // SARIF 2.1.0
	ArtifactNavigator Artifact = "navigator.json" // ATT&CK Navigator layer
	ArtifactStdout    Artifact = "stdout"
	ArtifactStderr    Artifact = "stderr"
	ArtifactFSDiff    Artifact = "fsdiff.tar" // the filesystem diff as a tar archive
)

// Artifacts lists every Artifact, for tools that copy or clean up an analysis.
var Artifacts = []Artifact{ArtifactRun, ArtifactReport, ArtifactSARIF, ArtifactNavigator, ArtifactStdout, ArtifactStderr, ArtifactFSDiff}

// MaxIDLen bounds an analysis id, the same as the queue's job ids.
const MaxIDLen = 64

// digestHex checks d is sha256:<64 lowercase hex> and returns the hex.
func digestHex(d string) (string, error) {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return "", fmt.Errorf("%w: digest %.80q", ErrInvalid, d)
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("%w: digest %.80q", ErrInvalid, d)
		}
	}
	return h, nil
}

// validID accepts analysis ids of [A-Za-z0-9_-], as queue.ValidateID does.
func validID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("%w: analysis id of %d bytes", ErrInvalid, len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: analysis id %.80q", ErrInvalid, id)
		}
	}
	return nil
}

// ImageKey is the key of the image archive with manifest digest digest.
func ImageKey(digest string) (string, error) {
	h, err := digestHex(digest)
	if err != nil {
		return "", err
	}
	return "images/sha256/" + h + ".tar", nil
}

// AnalysisPrefix is the prefix of every object of analysis id.
func AnalysisPrefix(id string) (string, error) {
	if err := validID(id); err != nil {
		return "", err
	}
	return "analyses/" + id + "/", nil
}

// AnalysisKey is the key of artifact a of analysis id.
func AnalysisKey(id string, a Artifact) (string, error) {
	p, err := AnalysisPrefix(id)
	if err != nil {
		return "", err
	}
	switch a {
	case ArtifactRun, ArtifactReport, ArtifactSARIF, ArtifactNavigator, ArtifactStdout, ArtifactStderr, ArtifactFSDiff:
	default:
		return "", fmt.Errorf("%w: artifact %q", ErrInvalid, a)
	}
	return p + string(a), nil
}

// DroppedFileKey is the key of a file the image dropped at path (as seen
// inside the sandbox). The path becomes one escaped segment, so a hostile
// path cannot reach outside the analysis; a path too long for one segment
// is cut and ends in "~" and a hash of the whole path instead.
func DroppedFileKey(id, path string) (string, error) {
	p, err := AnalysisPrefix(id)
	if err != nil {
		return "", err
	}
	if path == "" {
		return "", fmt.Errorf("%w: empty dropped file path", ErrInvalid)
	}
	seg := escapeSegment(path)
	if len(seg) > MaxSegmentLen {
		cut := 180
		for seg[cut-1] == '%' || seg[cut-2] == '%' { // keep %XX whole
			cut--
		}
		sum := sha256.Sum256([]byte(path))
		seg = seg[:cut] + "~" + hex.EncodeToString(sum[:16])
	}
	key := p + "files/" + seg
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// DroppedFilePath reverses DroppedFileKey; it fails for a hashed key.
func DroppedFilePath(key string) (string, error) {
	i := strings.LastIndex(key, "/files/")
	if i < 0 || strings.Contains(key[i:], "~") {
		return "", fmt.Errorf("%w: %.100q is no reversible dropped file's key", ErrInvalid, key)
	}
	p, err := url.PathUnescape(key[i+len("/files/"):])
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return p, nil
}

// escapeSegment escapes everything outside the key alphabet (slashes
// included, a leading dot, and "~", which marks a hashed name) as %XX.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keyByte(c) && c != '%' && c != '~' && !(i == 0 && c == '.') {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// VerdictPrefix is the prefix of every verdict object of an image.
func VerdictPrefix(digest string) (string, error) {
	h, err := digestHex(digest)
	if err != nil {
		return "", err
	}
	return "verdicts/sha256/" + h + "/", nil
}

// LatestVerdictKey is the key of an image's latest verdict.
func LatestVerdictKey(digest string) (string, error) {
	p, err := VerdictPrefix(digest)
	if err != nil {
		return "", err
	}
	return p + "latest.json", nil
}

// historyTime is fixed-width UTC, so history keys sort by time.
const historyTime = "20060102T150405.000000000Z"

// VerdictHistoryKey is the key of one verdict in an image's history.
func VerdictHistoryKey(digest string, t time.Time, id string) (string, error) {
	p, err := VerdictPrefix(digest)
	if err != nil {
		return "", err
	}
	if err := validID(id); err != nil {
		return "", err
	}
	return p + "history/" + t.UTC().Format(historyTime) + "-" + id + ".json", nil
}
