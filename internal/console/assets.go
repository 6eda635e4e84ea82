package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets/*.css assets/*.js assets/css/*.css
var assetFS embed.FS

// asset is one embedded file, with its gzipped form and content hash.
type asset struct {
	body, gz    []byte
	contentType string
	version     string // the first 12 hex digits of its SHA-256
}

// assetSet serves the embedded assets under /assets/{version}/{file}: the
// version is the content's hash, so a release that changes a file changes
// its URL and browsers may cache every URL forever.
type assetSet map[string]asset

func loadAssets() (assetSet, error) {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	set := assetSet{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("console asset %s: %w", e.Name(), err)
		}
		if e.Name() == "console.css" {
			if body, err = withAreaStyles(body); err != nil {
				return nil, err
			}
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("console asset %s: gzip: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		set[e.Name()] = asset{body: body, gz: gz.Bytes(), contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return set, nil
}

// withAreaStyles appends each area's stylesheet (assets/css/*.css, in
// name order) to the shared one: the browser loads one file.
func withAreaStyles(shared []byte) ([]byte, error) {
	names, err := fs.Glob(assetFS, "assets/css/*.css")
	if err != nil {
		return nil, fmt.Errorf("console area styles: %w", err)
	}
	out := append([]byte(nil), shared...)
	for _, n := range names {
		b, err := assetFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("console area style %s: %w", n, err)
		}
		out = append(append(out, '\n'), b...)
	}
	return out, nil
}

// url is the versioned URL of the asset named name (templates' asset func).
func (s assetSet) url(name string) (string, error) {
	a, ok := s[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return "/assets/" + a.version + "/" + name, nil
}

// ServeHTTP serves an asset for a year (immutable), gzipped when the
// browser accepts it; an unknown file or a stale version is 404.
func (s assetSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := s[r.PathValue("file")]
	if !ok || r.PathValue("version") != a.version {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := a.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
