package incident

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/view"
)

// textView renders entries and the open list as plain elements: what the
// UI's View will do with its components, reduced to what the test reads.
type textView struct{}

func (textView) Entry(_ context.Context, inc model.Incident, e model.IncidentEntry) []hub.Event {
	return []hub.Event{hub.PatchElements(fmt.Sprintf(`<li id="entry-%d-%d">%s %s %s</li>`, inc.ID, e.Seq,
		e.Kind, html.EscapeString(e.User), html.EscapeString(e.Text)),
		hub.WithSelector("#timeline"), hub.WithMergeMode(hub.ModeAppend))}
}

func (textView) Open(_ context.Context, open []model.Incident) []hub.Event {
	var b strings.Builder
	b.WriteString(`<ul id="open-incidents">`)
	for _, inc := range open {
		fmt.Fprintf(&b, `<li>#%d %s checks=%d acked=%s</li>`, inc.ID, html.EscapeString(inc.Title), len(inc.Checks), html.EscapeString(inc.AckedBy))
	}
	b.WriteString(`</ul>`)
	return []hub.Event{hub.PatchElements(b.String())}
}

// sseStream is one open SSE stream, read on a goroutine.
type sseStream struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *sseStream) has(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.buf.String(), sub)
}

func (s *sseStream) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestManager_LivePush: with a real hub and real streams, each new entry
// reaches the incident's room and each change of an open incident the
// dashboard room and the incidents page's; another incident's room hears nothing of it.
func TestManager_LivePush(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	h := hub.New()
	wg.Add(1)
	go func() { defer wg.Done(); _ = h.Run(ctx) }()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/events", func(c *fiber.Ctx) error { return h.HandleSSE(c, hub.WithRoom(c.Query("room"))) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { cancel(); _ = app.Shutdown(); wg.Wait() })

	open := func(room string) *sseStream {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+ln.Addr().String()+"/events?room="+room, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		s := &sseStream{}
		wg.Add(1)
		go func() {
			defer wg.Done()
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
	incRoom, otherRoom, dash := open(view.IncidentRoom(1)), open(view.IncidentRoom(2)), open(view.RoomDashboard)
	list := open(view.RoomIncidents)
	waitFor(t, 10*time.Second, "the streams", func() bool { return h.RoomCounts()[view.RoomDashboard] == 1 && len(h.RoomCounts()) == 4 })

	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, func(o *Options) { o.Hub, o.View = h, textView{} })
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.check("api", model.StateUp, model.StateDown, "timeout")
	e.settled()
	if err := e.m.Ack(ctxT(t), 1, "ann", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Chat(ctxT(t), 1, "bob", "192.0.2.8", "restarting <nginx>"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`entry-1-1">state  refused`, `entry-1-2">state  timeout`, `entry-1-3">ack ann acknowledged`,
		`entry-1-4">chat bob restarting &lt;nginx&gt;`, "mergeMode append", "selector #timeline"} {
		waitFor(t, 10*time.Second, "the incident room to get "+want, func() bool { return incRoom.has(want) })
	}
	for _, want := range []string{"#1 web is down checks=1 acked=", "#1 web is down checks=2 acked=", "#1 web is down checks=2 acked=ann"} {
		waitFor(t, 10*time.Second, "the dashboard to get "+want, func() bool { return dash.has(want) })
		waitFor(t, 10*time.Second, "the incidents page to get "+want, func() bool { return list.has(want) })
	}
	if dash.has("entry-1-") {
		t.Errorf("the dashboard got the timeline:\n%s", dash)
	}
	if otherRoom.has("entry-") || otherRoom.has("open-incidents") {
		t.Errorf("another incident's room got:\n%s", otherRoom)
	}
	e.check("web", model.StateDown, model.StateUp, "")
	e.check("api", model.StateDown, model.StateUp, "")
	waitFor(t, 10*time.Second, "the dashboard to empty", func() bool { return dash.has(`<ul id="open-incidents"></ul>`) })
}
