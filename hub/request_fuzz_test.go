package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// FuzzReadSignals feeds ReadSignals arbitrary signals, as a GET query
// parameter or a POST body with an arbitrary Content-Encoding, and checks
// that it never panics, refuses only with a *fiber.Error carrying a 4xx
// status, refuses every compressed body (415) and every oversize payload
// (413), and accepts exactly what encoding/json accepts into the struct.
// The seeds run in every go test; fuzz with
//
//	go test -run '^$' -fuzz FuzzReadSignals ./hub
func FuzzReadSignals(f *testing.F) {
	seeds := []struct {
		get      bool
		encoding string
		payload  []byte
	}{
		{false, "", []byte(`{"message":"hi","count":2}`)},
		{true, "", []byte(`{"message":"hi","count":2,"_local":true}`)},
		{false, "", []byte(`{"message":`)},
		{true, "", []byte(`{nope}`)},
		{false, "", []byte(`{"count":"three"}`)},
		{false, "", []byte(`{"count":1e400}`)},
		{false, "", []byte(`{"message":"\ud800\u0000"}`)},
		{false, "", []byte(`null`)},
		{false, "", []byte(`[1,2,3]`)},
		{false, "", []byte(`{"message":"a","message":"b"}`)},
		{false, "", []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000))},
		{false, "", []byte(`{"message":"` + strings.Repeat("x", MaxSignalsSize) + `"}`)},
		{true, "", []byte(`{"message":"` + strings.Repeat("y", MaxSignalsSize) + `"}`)},
		{false, "", bytes.Repeat([]byte(" "), MaxSignalsSize-2)},
		{false, "", []byte{}},
		{false, "gzip", gzipped(f, []byte(`{"message":"zipped"}`))},
		{false, "gzip, gzip", gzipped(f, gzipped(f, []byte(`{}`)))},
		{false, "identity", []byte(`{"count":1}`)},
		{false, " IDENTITY , ,", []byte(`{"count":1}`)},
		{false, "identity, br", []byte(`{"count":1}`)},
		{false, "x-gzip", []byte(`{}`)},
		{false, "deflate", []byte{}},
		{true, "gzip", []byte(`{"count":4}`)}, // no body on GET: the coding is irrelevant
	}
	for _, s := range seeds {
		f.Add(s.get, s.encoding, s.payload)
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, get bool, encoding string, payload []byte) {
		var fctx fasthttp.RequestCtx
		if get {
			fctx.Request.Header.SetMethod(fiber.MethodGet)
			fctx.Request.SetRequestURI("/signals?datastar=" + url.QueryEscape(string(payload)))
		} else {
			fctx.Request.Header.SetMethod(fiber.MethodPost)
			fctx.Request.SetRequestURI("/signals")
			fctx.Request.SetBody(payload)
		}
		if encoding != "" {
			fctx.Request.Header.Set(fiber.HeaderContentEncoding, encoding)
		}
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)

		var got formSignals
		err := ReadSignals(c, &got)

		want := 0 // the status the input deserves; 0: accepted
		var ref formSignals
		switch {
		case !get && encoded(encoding):
			want = fiber.StatusUnsupportedMediaType
		case len(payload) == 0:
		case len(payload) > MaxSignalsSize:
			want = fiber.StatusRequestEntityTooLarge
		case json.Unmarshal(payload, &ref) != nil:
			want = fiber.StatusBadRequest
		}
		if err == nil {
			if want != 0 {
				t.Fatalf("accepted; want %d (get %v, encoding %q, %d bytes)", want, get, encoding, len(payload))
			}
			if got != ref {
				t.Fatalf("decoded %+v, encoding/json decodes %+v", got, ref)
			}
			return
		}
		var fe *fiber.Error
		if !errors.As(err, &fe) || fe.Code < 400 || fe.Code > 499 {
			t.Fatalf("error %T %v: want a *fiber.Error with a 4xx status", err, err)
		}
		if fe.Code != want {
			t.Fatalf("status %d (%s); want %d (get %v, encoding %q, %d bytes)", fe.Code, fe.Message, want, get, encoding, len(payload))
		}
	})
}

// encoded is the fuzz oracle for a content coding other than identity,
// written independently of contentEncoding.
func encoded(header string) bool {
	for _, tok := range strings.Split(header, ",") {
		tok = strings.TrimSpace(tok)
		if tok != "" && !strings.EqualFold(tok, "identity") {
			return true
		}
	}
	return false
}
