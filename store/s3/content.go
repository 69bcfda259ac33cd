package s3

import "strings"

// contentType is what a browser or tool fetching the object should see.
func contentType(key string) string {
	for _, t := range []struct{ suffix, typ string }{
		{".json.gz", "application/gzip"},
		{".gz", "application/gzip"},
		{".sarif", "application/sarif+json"},
		{".json", "application/json"},
		{".tar", "application/x-tar"},
		{"/stdout", "text/plain; charset=utf-8"},
		{"/stderr", "text/plain; charset=utf-8"},
	} {
		if strings.HasSuffix(key, t.suffix) {
			return t.typ
		}
	}
	return "application/octet-stream"
}
