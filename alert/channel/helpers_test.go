package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is the fixed time of the test messages.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// fixedNow is the clock of tests that check signatures and endsAt.
func fixedNow() time.Time { return t0.Add(7 * time.Second) }

func testOptions() Options {
	return Options{Version: "1.2.3", Now: fixedNow, RepeatInterval: 4 * time.Hour, Hostname: "dashd.test"}
}

// webAlert is a firing critical check alert with every field set.
func webAlert() model.Alert {
	return model.Alert{
		Key: "check:web", Source: model.AlertSourceCheck, Name: "web",
		Labels:   map[string]string{"host": "db-1", "check": "web", "group": "shop", "type": "http", "severity": "critical"},
		Severity: config.SeverityCritical, State: model.AlertFiring,
		Summary: "web is down", Reason: "HTTP 503 <Service Unavailable> & more",
		StartsAt: t0.Add(-5 * time.Minute), URL: "https://dash.example.org/checks/web",
	}
}

// diskAlert is a resolved warning rule alert.
func diskAlert() model.Alert {
	return model.Alert{
		Key: "rule:disk:/var", Source: model.AlertSourceRule, Name: "disk",
		Labels:   map[string]string{"host": "db-1", "rule": "disk", "mountpoint": "/var", "severity": "warning"},
		Severity: config.SeverityWarning, State: model.AlertResolved,
		Summary: "/var 92.4% used", Reason: "92.4% used, above 90% for 5m",
		StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(-time.Minute), URL: "https://dash.example.org/host",
	}
}

func oneAlert() model.AlertMessage {
	return model.AlertMessage{ID: "dashd-db-1-hook-17-17", Channel: "hook", Host: "db-1", Alerts: []model.Alert{webAlert()},
		ExternalURL: "https://dash.example.org", Time: t0}
}

func mixedAlerts() model.AlertMessage {
	m := oneAlert()
	m.ID = "dashd-db-1-hook-17-19"
	m.Alerts = append(m.Alerts, diskAlert())
	return m
}

// parseConfig runs src through the real config machinery with Types.
func parseConfig(t *testing.T, src string) (*config.Config, []string) {
	t.Helper()
	cfg, err := config.Parse("c.yaml", []byte(src), config.Options{ChannelTypes: Types(), LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil {
		return cfg, nil
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse returned %T %v", err, err)
	}
	return nil, strings.Split(ce.Error(), "\n")
}

// channelYAML wraps one channel's keys (indented by 4) into a config.
func channelYAML(keys string) string {
	return "alerts:\n  channels:\n    - name: ch\n" + keys
}

// mustChannel parses one channel and fails on any problem.
func mustChannel(t *testing.T, keys string) config.Channel {
	t.Helper()
	cfg, probs := parseConfig(t, channelYAML(keys))
	if probs != nil {
		t.Fatalf("problems:\n%s", strings.Join(probs, "\n"))
	}
	return cfg.Alerts.Channels[0]
}

// mustSender builds the Sender of one channel.
func mustSender(t *testing.T, keys string, o Options) Sender {
	t.Helper()
	s, err := New(mustChannel(t, keys), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// request is what a test receiver got.
type request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// receiver is a real HTTP server on 127.0.0.1 that records requests and
// answers as its respond function says (200 "ok" when nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []request
	respond func(w http.ResponseWriter, got request)
}

// newReceiver starts a receiver; respond sees each request as recorded.
func newReceiver(t *testing.T, respond func(w http.ResponseWriter, got request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		got := request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, got)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(w, got)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

// requests returns what was received so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

// only returns the one request received, failing otherwise.
func (rc *receiver) only(t *testing.T) request {
	t.Helper()
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	return got[0]
}

// indentJSON pretty-prints a JSON body for a golden file, failing when it
// is not JSON.
func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// send sends m with a generous test deadline.
func send(t *testing.T, s Sender, m model.AlertMessage) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Send(ctx, m)
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// checkHeader fails when h's name is not want.
func checkHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if got := h.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}
