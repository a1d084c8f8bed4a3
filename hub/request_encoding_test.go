package hub

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dashd/dashd/internal/golden"
)

// bombFile is a POST body gzipped twice whose content is a signals JSON of
// bombSize bytes: 687 bytes on the wire. Regenerate it with
// DASHD_UPDATE_GOLDEN=1.
const (
	bombFile = "testdata/signals-128MiB.json.gz.gz"
	bombSize = 128 << 20
)

func gzipped(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bomb returns the double-gzipped body from testdata, rebuilding it first
// when golden.Update (DASHD_UPDATE_GOLDEN=1): it compresses 128 MiB, too
// slow for every run.
func bomb(t *testing.T) []byte {
	t.Helper()
	if golden.Update() {
		var inner bytes.Buffer
		zw, err := gzip.NewWriterLevel(&inner, gzip.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		prefix, suffix := `{"message":"`, `"}`
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		_, _ = io.WriteString(zw, prefix)
		for n := len(prefix) + len(suffix); n < bombSize; n += len(chunk) {
			_, _ = zw.Write(chunk[:min(len(chunk), bombSize-n)])
		}
		_, _ = io.WriteString(zw, suffix)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bombFile, gzipped(t, inner.Bytes()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.FromSlash(bombFile))
	if err != nil {
		t.Fatalf("read %s (run with DASHD_UPDATE_GOLDEN=1 to create it): %v", bombFile, err)
	}
	return b
}

// TestReadSignals_ContentEncoding: a body with any content coding but
// identity is refused with 415 before it is read, whatever the spelling or
// stacking; identity is read as usual.
func TestReadSignals_ContentEncoding(t *testing.T) {
	var got formSignals
	e := newEnv(t, nil, func(app *fiber.App, _ *Hub) {
		app.Post("/signals", func(c *fiber.Ctx) error {
			got = formSignals{}
			if err := ReadSignals(c, &got); err != nil {
				return err
			}
			return c.SendString("ok")
		})
	})
	plain := []byte(`{"message":"hi","count":3}`)
	tests := []struct {
		name      string
		encodings []string // one header line each
		body      []byte
		status    int
		says      string // in the 415 body
	}{
		{name: "gzip", encodings: []string{"gzip"}, body: gzipped(t, plain), status: 415, says: `"gzip"`},
		{name: "gzip stacked", encodings: []string{"gzip, gzip"}, body: gzipped(t, gzipped(t, plain)), status: 415, says: `"gzip, gzip"`},
		{name: "deflate", encodings: []string{"deflate"}, body: []byte{0x78, 0x9c}, status: 415, says: `"deflate"`},
		{name: "br", encodings: []string{"br"}, body: []byte{0x0b}, status: 415, says: `"br"`},
		{name: "upper case", encodings: []string{"GZIP"}, body: gzipped(t, plain), status: 415, says: `"GZIP"`},
		{name: "identity then gzip", encodings: []string{"identity, gzip"}, body: gzipped(t, plain), status: 415, says: `"gzip"`},
		{name: "two header lines", encodings: []string{"identity", "gzip"}, body: gzipped(t, plain), status: 415, says: `"gzip"`},
		{name: "unknown coding", encodings: []string{"zstd"}, body: plain, status: 415, says: `"zstd"`},
		{name: "identity", encodings: []string{"identity"}, body: plain, status: 200},
		{name: "identity, spaced and cased", encodings: []string{" Identity , "}, body: plain, status: 200},
		{name: "none", body: plain, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.base+"/signals", bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for _, enc := range tt.encodings {
				req.Header.Add("Content-Encoding", enc)
			}
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 200 {
				if got != (formSignals{"hi", 3}) {
					t.Errorf("signals = %+v, want {hi 3}", got)
				}
				return
			}
			if !strings.Contains(string(body), "uncompressed") || !strings.Contains(string(body), tt.says) ||
				resp.Header.Get("Accept-Encoding") != "identity" {
				t.Errorf("415 body %q, Accept-Encoding %q: want a message naming %s and Accept-Encoding: identity",
					body, resp.Header.Get("Accept-Encoding"), tt.says)
			}
		})
	}
}

// TestReadSignals_CompressionBombRefused posts the double-gzipped body that
// would inflate to 128 MiB (fiber's c.Body() inflates stacked codings without
// a bound) and checks it is refused with 415 without being inflated: the
// process allocates nowhere near the inflated size while serving it.
func TestReadSignals_CompressionBombRefused(t *testing.T) {
	body := bomb(t)
	var status int
	e := newEnv(t, nil, func(app *fiber.App, _ *Hub) {
		app.Post("/signals", func(c *fiber.Ctx) error {
			var s formSignals
			err := ReadSignals(c, &s)
			if fe, ok := err.(*fiber.Error); ok {
				status = fe.Code
			}
			return err
		})
	})
	// Warm up the server and client paths so the measurement below is the
	// request's own allocations.
	if resp, err := e.client.Post(e.base+"/signals", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, err := http.NewRequest(http.MethodPost, e.base+"/signals", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip, gzip")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)

	if resp.StatusCode != http.StatusUnsupportedMediaType || status != http.StatusUnsupportedMediaType {
		t.Errorf("status %d (handler saw %d), body %q: want 415 from ReadSignals", resp.StatusCode, status, msg)
	}
	// TotalAlloc only grows: inflating would add at least the inflated size.
	// The bound is a quarter of it, far above what serving a request costs.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > bombSize/4 {
		t.Errorf("serving the refusal allocated %d MiB: the body was inflated (%d MiB inflated)", grew>>20, bombSize>>20)
	}
}

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReadSignals_StreamedBodyBounded: with fiber's StreamRequestBody the
// body limit does not apply and fasthttp's Body() reads a streamed body
// whole; ReadSignals reads no more than it needs to refuse an oversize one.
func TestReadSignals_StreamedBodyBounded(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		status  int // 0: accepted
		maxRead int
	}{
		{name: "small", size: len(`{"message":"hi"}`), maxRead: len(`{"message":"hi"}`)},
		{name: "oversize", size: 64 << 20, status: fiber.StatusRequestEntityTooLarge, maxRead: MaxSignalsSize + 1},
	}
	app := fiber.New(fiber.Config{StreamRequestBody: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"message":"hi"}`
			var src io.Reader = strings.NewReader(body)
			if tt.size > len(body) {
				src = io.MultiReader(strings.NewReader(`{"message":"`), aReader{}) // endless
			}
			cr := &countingReader{r: io.LimitReader(src, int64(tt.size))}
			var fctx fasthttp.RequestCtx
			fctx.Request.Header.SetMethod(fiber.MethodPost)
			fctx.Request.SetRequestURI("/signals")
			fctx.Request.SetBodyStream(cr, tt.size)
			c := app.AcquireCtx(&fctx)
			defer app.ReleaseCtx(c)
			var got formSignals
			err := ReadSignals(c, &got)
			var fe *fiber.Error
			switch {
			case tt.status == 0 && (err != nil || got.Message != "hi"):
				t.Errorf("ReadSignals = %v, %+v; want {hi}", err, got)
			case tt.status != 0 && (!errors.As(err, &fe) || fe.Code != tt.status):
				t.Errorf("ReadSignals = %v, want status %d", err, tt.status)
			}
			if cr.n > tt.maxRead {
				t.Errorf("read %d bytes of the streamed body, want at most %d", cr.n, tt.maxRead)
			}
		})
	}
}

// aReader is an endless run of "a".
type aReader struct{}

func (aReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
