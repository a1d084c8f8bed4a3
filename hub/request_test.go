package hub

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

type formSignals struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

func TestReadSignals(t *testing.T) {
	var got formSignals
	e := newEnv(t, nil, func(app *fiber.App, _ *Hub) {
		app.All("/signals", func(c *fiber.Ctx) error {
			got = formSignals{Message: "untouched"}
			if err := ReadSignals(c, &got); err != nil {
				return err
			}
			return c.SendString("ok")
		})
	})
	huge := `{"message":"` + strings.Repeat("x", MaxSignalsSize) + `"}`
	tests := []struct {
		name     string
		method   string
		query    string // the datastar parameter, url-encoded by the test
		body     string
		status   int
		want     formSignals
		contains string // in the 400 body
	}{
		{name: "GET query", method: http.MethodGet, query: `{"message":"hi","count":2,"_local":1}`, status: 200, want: formSignals{"hi", 2}},
		{name: "GET without signals", method: http.MethodGet, status: 200, want: formSignals{Message: "untouched"}},
		{name: "POST body", method: http.MethodPost, body: `{"message":"posted","count":7}`, status: 200, want: formSignals{"posted", 7}},
		{name: "PUT body", method: http.MethodPut, body: `{"count":1}`, status: 200, want: formSignals{"untouched", 1}},
		{name: "PATCH body", method: http.MethodPatch, body: `{"message":""}`, status: 200, want: formSignals{}},
		{name: "POST malformed", method: http.MethodPost, body: `{"message":`, status: 400, contains: "malformed signals JSON"},
		{name: "GET malformed", method: http.MethodGet, query: `{nope}`, status: 400, contains: "malformed signals JSON"},
		{name: "POST wrong type", method: http.MethodPost, body: `{"count":"three"}`, status: 400, contains: "malformed signals JSON"},
		{name: "POST oversized", method: http.MethodPost, body: huge, status: 413, contains: "signals too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.base + "/signals"
			if tt.query != "" {
				u += "?datastar=" + url.QueryEscape(tt.query)
			}
			req, err := http.NewRequest(tt.method, u, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Datastar-Request", "true")
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status != 200 {
				if !strings.Contains(string(body), tt.contains) {
					t.Errorf("body %q does not say %q", body, tt.contains)
				}
				return
			}
			if got != tt.want {
				t.Errorf("signals = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSSEWriter_PostReply(t *testing.T) {
	e := newEnv(t, nil, func(app *fiber.App, _ *Hub) {
		app.Post("/send", func(c *fiber.Ctx) error {
			var s formSignals
			if err := ReadSignals(c, &s); err != nil {
				return err
			}
			return SSE(c).Send(
				PatchSignals(map[string]string{"message": ""}),
				PatchElements(`<li>`+s.Message+`</li>`, WithSelector("#chat"), WithMergeMode(ModeAppend)),
			)
		})
	})
	resp, err := e.client.Post(e.base+"/send", "application/json", strings.NewReader(`{"message":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, err := Encode(
		PatchSignals(map[string]string{"message": ""}),
		PatchElements(`<li>hello</li>`, WithSelector("#chat"), WithMergeMode(ModeAppend)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}
