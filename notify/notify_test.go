package notify

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func TestFor(t *testing.T) {
	tests := []struct {
		e     model.Event
		ok    bool
		title string
	}{
		{model.Event{Kind: model.EventCheck, Check: "db", From: model.StateUp, To: model.StateDown}, true, "db is down"},
		{model.Event{Kind: model.EventCheck, Check: "db", From: model.StateDown, To: model.StateUp}, true, "db recovered"},
		{model.Event{Kind: model.EventCheck, Check: "db", From: model.StateUnknown, To: model.StateUp}, false, ""},
		{model.Event{Kind: model.EventCheck, Check: "db", From: model.StateUnknown, To: model.StateDown}, true, "db is down"},
		{model.Event{Kind: model.EventReload}, false, ""},
		{model.Event{Kind: model.EventAck, User: "alice", Reason: model.AckReasonPrefix + "incident #3: web is down"}, true, "alice is on incident #3: web is down"},
		{model.Event{Kind: model.EventAck, Reason: "something else"}, true, "someone is on an incident"},
		{model.Event{Kind: model.EventIncident, User: "alice", Reason: "noted incident #3: web is down"}, false, ""},
	}
	for _, tt := range tests {
		n, ok := For(tt.e)
		if ok != tt.ok || n.Title != tt.title {
			t.Errorf("For(%+v) = %q, %v; want %q, %v", tt.e, n.Title, ok, tt.title, tt.ok)
		}
	}
}

// stream is one open SSE stream of a session, read on a goroutine.
type stream struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *stream) has(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.buf.String(), sub)
}

// TestNotifier_PushesToLiveSessions: a check going down is stored as a
// notification and pushed, with each session's own unread count, to every
// session with a stream open: real storage, a real hub, real streams.
func TestNotifier_PushesToLiveSessions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	db, err := storage.Open(filepath.Join(t.TempDir(), "d.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = db.Run(ctx) }()
	t.Cleanup(func() { _ = db.Close() })
	h := hub.New()
	wg.Add(1)
	go func() { defer wg.Done(); _ = h.Run(ctx) }()

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/events", func(c *fiber.Ctx) error { return h.HandleSSE(c, hub.WithSession(c.Query("session"))) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	open := func(session string) *stream {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+ln.Addr().String()+"/events?session="+session, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		s := &stream{}
		go func() {
			defer resp.Body.Close()
			r := bufio.NewReader(resp.Body)
			for {
				line, err := r.ReadString('\n')
				s.mu.Lock()
				s.buf.WriteString(line)
				s.mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
		return s
	}
	a, b := open("aaaa"), open("bbbb")
	deadline := time.Now().Add(10 * time.Second)
	for len(h.Sessions()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("streams did not register")
		}
		time.Sleep(10 * time.Millisecond)
	}

	rec, err := flow.New(flow.Options{Store: db, Latest: state.New(config.Default(), t0)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{Store: db, Hub: h, Events: rec.Subscribe("notify", 16)})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = n.Run(ctx) }()

	rec.Event(model.Event{Time: t0, Kind: model.EventCheck, Check: "db", From: model.StateUp, To: model.StateDown, Reason: "connect: connection refused"})
	for _, s := range []*stream{a, b} {
		deadline := time.Now().Add(10 * time.Second)
		for !(s.has("db is down") && s.has(`"unreadCount":1`) && s.has("mergeMode prepend")) {
			if time.Now().After(deadline) {
				s.mu.Lock()
				t.Fatalf("no notification pushed; stream so far:\n%s", s.buf.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ns, err := db.Notifications("cccc", 10)
	if err != nil || len(ns) != 1 || ns[0].Title != "db is down" {
		t.Fatalf("stored notifications %+v, %v", ns, err)
	}

	// Someone takes the incident on: every session hears who.
	rec.Event(model.Event{Time: t0, Kind: model.EventAck, Check: "db", User: "alice", Address: "127.0.0.1",
		Reason: model.AckReasonPrefix + "incident #3: db is down"})
	for _, s := range []*stream{a, b} {
		deadline := time.Now().Add(10 * time.Second)
		for !(s.has("alice is on incident #3: db is down") && s.has(`"unreadCount":2`)) {
			if time.Now().After(deadline) {
				s.mu.Lock()
				t.Fatalf("no acknowledgement pushed; stream so far:\n%s", s.buf.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestNew_Required(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without its parts succeeded")
	}
}
