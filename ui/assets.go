package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var staticFS embed.FS

// DatastarAsset is the logical name of the pinned Datastar client bundle.
const DatastarAsset = "vendor/datastar.js"

// Assets serves the embedded static files at content-hashed URLs
// (/static/app.3f2a1b9c.css) so browsers may cache them forever: a new build
// with new bytes gets a new URL. Each file is compressed once at start-up, never
// per request.
type Assets struct {
	byName map[string]*asset // logical name, e.g. "app.css"
	byPath map[string]*asset // hashed URL path
}

type asset struct {
	url         string
	contentType string
	raw, gz     []byte
	etag        string
}

// LoadAssets reads and prepares the embedded static files. It fails when the
// Datastar bundle was not copied in at build time (run `make build`).
func LoadAssets() (*Assets, error) {
	return loadAssets(staticFS)
}

func loadAssets(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*asset{}, byPath: map[string]*asset{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "README.md") {
			return err
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(raw)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		url := "/static/" + strings.TrimSuffix(name, ext) + "." + hash + ext
		ct := contentTypes[ext]
		if ct == "" {
			ct = "application/octet-stream"
		}
		as := &asset{url: url, contentType: ct, raw: raw, etag: `"` + hash + `"`}
		if compressible(ct) {
			if gz, err := gzipped(raw); err != nil {
				return fmt.Errorf("gzip %s: %w", name, err)
			} else if len(gz) < len(raw) {
				as.gz = gz
			}
		}
		a.byName[name] = as
		a.byPath[url] = as
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: load assets: %w", err)
	}
	if _, ok := a.byName[DatastarAsset]; !ok {
		return nil, errors.New("ui: the Datastar client is not embedded (ui/static/vendor/datastar.js is missing): build with `make build`, which runs npm ci and copies it in")
	}
	return a, nil
}

// contentTypes covers what ui/static holds. mime.TypeByExtension would do,
// but it loads the system's mime.types into about 1 MB of resident memory
// for the life of the process, 4 % of dashd's memory budget.
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
	".json":  "application/json",
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") ||
		strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

// URL returns the content-hashed URL of a logical asset name such as
// "app.css"; it panics on a name that is not embedded, which is a programming
// error caught by every page test.
func (a *Assets) URL(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("ui: no embedded asset " + name)
	}
	return as.url
}

// Handler serves GET /static/* with an immutable one-year cache.
func (a *Assets) Handler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		as, ok := a.byPath[c.Path()]
		if !ok {
			return fiber.NewError(fiber.StatusNotFound, "no such asset (it may be from an older build: reload the page)")
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderETag, as.etag)
		c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		c.Set(fiber.HeaderContentType, as.contentType)
		if c.Get(fiber.HeaderIfNoneMatch) == as.etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		if as.gz != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(as.gz)
		}
		return c.Send(as.raw)
	}
}

// gzipped compresses b at the best level. An error (only a bug could cause
// one: it writes into memory) fails LoadAssets rather than leaving a
// truncated body to serve.
func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
