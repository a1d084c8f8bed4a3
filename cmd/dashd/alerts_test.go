package main

// Daemon-level tests for issue #14 (outbound alerts): a real dashd child
// whose http checks watch a target the test controls, delivering to a
// webhook receiver in the test process (and to a real Alertmanager).
// Everything listens and sends on 127.0.0.1 only.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// alertsHead is the collect/dashboard head of the alert tests' configs:
// slower than the package default, several daemons run at once.
const alertsHead = "collect:\n  interval: 1s\n  process_interval: 5s\ndashboard:\n  broadcast_interval: 1s\n"

// checkTarget is the HTTP server the checks watch: GET /c/NAME answers 500
// while NAME is set down, 200 otherwise.
type checkTarget struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down map[string]bool
}

func newCheckTarget(t *testing.T) *checkTarget {
	t.Helper()
	ct := &checkTarget{down: map[string]bool{}}
	ct.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/c/")
		ct.mu.Lock()
		down := ct.down[name]
		ct.mu.Unlock()
		if down {
			http.Error(w, "target says down", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(ct.srv.Close)
	return ct
}

// set makes the named checks' answers fail (down) or succeed.
func (ct *checkTarget) set(down bool, names ...string) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, n := range names {
		ct.down[n] = down
	}
}

// checksYAML is a checks section: one http check per name against the
// target, every second, down after one failure.
func checksYAML(ct *checkTarget, names ...string) string {
	var b strings.Builder
	b.WriteString("checks:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    type: http\n    url: %s/c/%s\n    interval: 1s\n    timeout: 800ms\n    fail_after: 1\n", n, ct.srv.URL, n)
	}
	return b.String()
}

func checkNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// hookDoc is what the test reads of a webhook's default JSON document.
type hookDoc struct {
	ID       string        `json:"id"`
	Alerts   []model.Alert `json:"alerts"`
	Reminder bool          `json:"reminder"`
	Test     bool          `json:"test"`
}

// hookReq is one request the receiver got, and what it answered.
type hookReq struct {
	At     time.Time
	Path   string
	Key    string // Idempotency-Key
	Status int
	Doc    hookDoc
	Err    string // the body did not decode
}

// alertHook is a webhook receiver on 127.0.0.1 that records every request.
// It can answer 503 (failing) or be down (its listener closed) and come
// back on the same address.
type alertHook struct {
	t    *testing.T
	addr string

	mu      sync.Mutex
	srv     *http.Server
	failing bool
	reqs    []hookReq
}

func newAlertHook(t *testing.T) *alertHook {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &alertHook{t: t, addr: ln.Addr().String()}
	h.serve(ln)
	t.Cleanup(h.down)
	return h
}

func (h *alertHook) url(path string) string { return "http://" + h.addr + path }

func (h *alertHook) serve(ln net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go srv.Serve(ln)
}

func (h *alertHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rq := hookReq{At: time.Now(), Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"), Status: http.StatusOK}
	if err := json.Unmarshal(body, &rq.Doc); err != nil {
		rq.Err = err.Error()
	}
	h.mu.Lock()
	if h.failing {
		rq.Status = http.StatusServiceUnavailable
	}
	h.reqs = append(h.reqs, rq)
	h.mu.Unlock()
	w.WriteHeader(rq.Status)
}

// setFailing makes every answer 503 (true) or 200.
func (h *alertHook) setFailing(f bool) {
	h.mu.Lock()
	h.failing = f
	h.mu.Unlock()
}

// down closes the listener and every connection: dashd gets refused.
func (h *alertHook) down() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (h *alertHook) up() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", h.addr)
		if err == nil {
			h.serve(ln)
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("receiver cannot listen again on %s: %v", h.addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// accepted returns the requests answered 2xx on path ("" any), in order.
func (h *alertHook) accepted(path string) []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookReq
	for _, r := range h.reqs {
		if r.Status < 300 && (path == "" || r.Path == path) {
			out = append(out, r)
		}
	}
	return out
}

func (h *alertHook) all() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reqs)
}

// alertIdent names an alert as the tests tell them apart: a check's state
// alert by the check's name, its flapping alert (label flapping=true) by
// the name and " flapping".
func alertIdent(a model.Alert) string {
	if a.Labels["flapping"] == "true" {
		return a.Name + " flapping"
	}
	return a.Name
}

// alertsIn lists what accepted requests said of a check's state alert:
// "firing", "resolved", "reminder" (a reminder of it firing), in arrival
// order.
func alertsIn(reqs []hookReq, check string) []string {
	var out []string
	for _, r := range reqs {
		for _, a := range r.Doc.Alerts {
			if alertIdent(a) != check {
				continue
			}
			s := string(a.State)
			if r.Doc.Reminder {
				s = "reminder"
			}
			out = append(out, s)
		}
	}
	return out
}

// waitFor polls cond every 100ms until it holds, failing after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// getJSON decodes a GET answer of the daemon's API into v.
func getJSON(t *testing.T, d *child, path string, v any) {
	t.Helper()
	resp, body := get(t, d.url(path))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding GET %s: %v\n%s", path, err, body)
	}
}

// checkStates reads every check's damped state.
func checkStates(t *testing.T, d *child) map[string]model.State {
	t.Helper()
	var v struct {
		Checks []struct {
			Name  string      `json:"name"`
			State model.State `json:"state"`
		} `json:"checks"`
	}
	getJSON(t, d, "/api/v1/checks", &v)
	out := map[string]model.State{}
	for _, c := range v.Checks {
		out[c.Name] = c.State
	}
	return out
}

// waitStates waits until every named check shows want.
func waitStates(t *testing.T, d *child, want model.State, names ...string) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d checks %s", len(names), want), func() bool {
		st := checkStates(t, d)
		for _, n := range names {
			if st[n] != want {
				return false
			}
		}
		return true
	})
}

// apiFiring is an entry of GET /api/v1/alerts.
type apiFiring struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	State  model.AlertState  `json:"state"`
	HeldBy string            `json:"held_by"`
}

// firingAlerts reads GET /api/v1/alerts by alertIdent.
func firingAlerts(t *testing.T, d *child) map[string]apiFiring {
	t.Helper()
	var v struct{ Alerts []apiFiring }
	getJSON(t, d, "/api/v1/alerts", &v)
	out := map[string]apiFiring{}
	for _, a := range v.Alerts {
		out[alertIdent(model.Alert{Name: a.Name, Labels: a.Labels})] = a
	}
	return out
}

// apiChannel is an entry of GET /api/v1/channels.
type apiChannel struct {
	Name      string `json:"name"`
	Pending   int    `json:"pending"`
	LastError string `json:"last_error"`
	Delivered uint64 `json:"delivered"`
}

func channelHealth(t *testing.T, d *child, name string) apiChannel {
	t.Helper()
	var v struct{ Channels []apiChannel }
	getJSON(t, d, "/api/v1/channels", &v)
	for _, c := range v.Channels {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("channel %q not in /api/v1/channels: %+v", name, v.Channels)
	return apiChannel{}
}

// allEvents reads every stored event, oldest first, page by page.
func allEvents(t *testing.T, d *child) []model.Event {
	t.Helper()
	var out []model.Event
	path := "/api/v1/events?limit=1000"
	for {
		var v struct {
			Events []struct {
				model.Event
				FromState model.State `json:"from_state"`
				ToState   model.State `json:"to_state"`
			} `json:"events"`
			Next uint64 `json:"next"`
		}
		getJSON(t, d, path, &v)
		for _, e := range v.Events {
			e.Event.From, e.Event.To = e.FromState, e.ToState
			out = append(out, e.Event)
		}
		if v.Next == 0 {
			break
		}
		path = fmt.Sprintf("/api/v1/events?limit=1000&before=%d", v.Next)
	}
	slices.Reverse(out)
	return out
}

// alertChange names one notified change of a check's alert: it fired (at
// its start) or resolved (at its end).
type alertChange struct {
	check, state string
	at           string // RFC 3339 with nanoseconds, UTC
}

func (c alertChange) String() string { return c.check + " " + c.state + " at " + c.at }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// expectedChanges replays the stored check events as the alerter should:
// a check going down (or degraded) fires its alert unless it fires
// already (a restart's "unknown -> down" continues it); a check coming
// back up resolves a firing alert, also when its first result after a
// restart is up. A check starting (To degraded) or stopping (To up)
// flapping does the same to its flapping alert. It returns the changes a
// channel routed every check must hear of, in event order.
func expectedChanges(events []model.Event) []alertChange {
	firing := map[string]bool{}
	var out []alertChange
	for _, e := range events {
		switch e.Kind {
		case model.EventCheck:
		case model.EventFlapping:
			e.Check += " flapping"
		default:
			continue
		}
		switch e.To {
		case model.StateDown, model.StateDegraded:
			if !firing[e.Check] {
				firing[e.Check] = true
				out = append(out, alertChange{e.Check, string(model.AlertFiring), stamp(e.Time)})
			}
		case model.StateUp:
			if firing[e.Check] {
				delete(firing, e.Check)
				out = append(out, alertChange{e.Check, string(model.AlertResolved), stamp(e.Time)})
			}
		}
	}
	return out
}

// changesOf lists the changes a message carries: a firing alert its start;
// a resolved one its end, and its start (a message that only says
// "resolved" still told of the problem).
func changesOf(doc hookDoc) []alertChange {
	var out []alertChange
	for _, a := range doc.Alerts {
		out = append(out, alertChange{alertIdent(a), string(model.AlertFiring), stamp(a.StartsAt)})
		if a.State == model.AlertResolved {
			out = append(out, alertChange{alertIdent(a), string(model.AlertResolved), stamp(a.EndsAt)})
		}
	}
	return out
}

// deliveryTally is what a channel's accepted messages carried, against
// what the stored events say it should have.
type deliveryTally struct {
	messages   int
	missed     []alertChange // expected, never delivered
	unexpected []alertChange // delivered, not expected (a re-fire)
	// dupMessages are accepted messages that carried nothing new: the same
	// Idempotency-Key again, or only changes delivered before.
	dupMessages []string
	malformed   []string // bodies that are not the webhook document
}

func tally(events []model.Event, reqs []hookReq) deliveryTally {
	want := expectedChanges(events)
	wanted := map[alertChange]bool{}
	for _, c := range want {
		wanted[c] = true
	}
	got := map[alertChange]bool{}
	keys := map[string]bool{}
	var tl deliveryTally
	for _, r := range reqs {
		if r.Err != "" {
			tl.malformed = append(tl.malformed, r.Key+": "+r.Err)
			continue
		}
		if r.Doc.Reminder || r.Doc.Test {
			continue
		}
		tl.messages++
		fresh := !keys[r.Key]
		keys[r.Key] = true
		news := false
		for _, c := range changesOf(r.Doc) {
			if !got[c] {
				news = true
				got[c] = true
				if !wanted[c] && c.state == string(model.AlertFiring) {
					tl.unexpected = append(tl.unexpected, c)
				}
			}
		}
		if !fresh || !news {
			tl.dupMessages = append(tl.dupMessages, r.Key)
		}
	}
	for _, c := range want {
		if !got[c] {
			tl.missed = append(tl.missed, c)
		}
	}
	return tl
}

// TestAlerts_Grouping: ten checks going down within a second arrive as one
// message (or very few) with group_wait 3s, and as ten messages of one
// alert each with group_wait 0s.
func TestAlerts_Grouping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		groupWait   string
		minMessages int
		maxMessages int
	}{
		{"group_wait 3s gathers them", "3s", 1, 2},
		{"group_wait 0s sends each", "0s", 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := newCheckTarget(t)
			hook := newAlertHook(t)
			names := checkNames("g-", 10)
			dir := t.TempDir()
			cfg := writeConfigHead(t, dir, alertsHead, checksYAML(ct, names...)+fmt.Sprintf(`alerts:
  group_wait: %s
  channels:
    - name: hook
      type: webhook
      url: %s
  routes:
    - checks: ["*"]
      channels: [hook]
`, tt.groupWait, hook.url("/hook")))
			d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
			waitStates(t, d, model.StateUp, names...)

			ct.set(true, names...)
			waitFor(t, 60*time.Second, "all 10 alerts delivered", func() bool {
				n := 0
				for _, name := range names {
					if len(alertsIn(hook.accepted(""), name)) > 0 {
						n++
					}
				}
				return n == len(names)
			})
			time.Sleep(2 * time.Second) // anything else on its way
			reqs := hook.accepted("")
			for _, name := range names {
				if got := alertsIn(reqs, name); !slices.Equal(got, []string{"firing"}) {
					t.Errorf("%s: messages said %v, want [firing] once", name, got)
				}
			}
			if n := len(reqs); n < tt.minMessages || n > tt.maxMessages {
				t.Errorf("%d messages for 10 checks going down, want %d to %d", n, tt.minMessages, tt.maxMessages)
			}
			for _, r := range reqs {
				if r.Err != "" {
					t.Errorf("message with Idempotency-Key %q is not the webhook document: %s", r.Key, r.Err)
				}
				if r.Key == "" || r.Key != r.Doc.ID {
					t.Errorf("message %q came with Idempotency-Key %q, want its id", r.Doc.ID, r.Key)
				}
				if tt.groupWait == "0s" && len(r.Doc.Alerts) != 1 {
					t.Errorf("group_wait 0s: message %s carries %d alerts, want 1", r.Doc.ID, len(r.Doc.Alerts))
				}
			}
			t.Logf("group_wait %s: 10 checks down -> %d messages", tt.groupWait, len(reqs))
			d.stop()
		})
	}
}

// TestAlerts_ResolvedAndReminders: a recovery sends a resolved message
// (send_resolved defaults to true), a route with send_resolved: false
// sends none, and repeat_interval 1m (the smallest allowed) reminds of an
// alert that still fires.
func TestAlerts_ResolvedAndReminders(t *testing.T) {
	t.Parallel()
	ct := newCheckTarget(t)
	hook := newAlertHook(t)
	names := []string{"r-1", "r-2", "q-1"}
	dir := t.TempDir()
	cfg := writeConfigHead(t, dir, alertsHead, checksYAML(ct, names...)+fmt.Sprintf(`alerts:
  group_wait: 0s
  repeat_interval: 1m
  channels:
    - name: resolved
      type: webhook
      url: %s
    - name: quiet
      type: webhook
      url: %s
  routes:
    - checks: ["r-*"]
      channels: [resolved]
    - checks: ["q-*"]
      channels: [quiet]
      send_resolved: false
`, hook.url("/resolved"), hook.url("/quiet")))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	waitStates(t, d, model.StateUp, names...)

	ct.set(true, names...)
	fired := time.Now()
	waitFor(t, 30*time.Second, "the three alerts firing", func() bool {
		return len(alertsIn(hook.accepted("/resolved"), "r-1")) > 0 && len(alertsIn(hook.accepted("/resolved"), "r-2")) > 0 &&
			len(alertsIn(hook.accepted("/quiet"), "q-1")) > 0
	})
	ct.set(false, "r-2", "q-1")
	waitFor(t, 30*time.Second, "r-2's resolved message", func() bool {
		return slices.Equal(alertsIn(hook.accepted("/resolved"), "r-2"), []string{"firing", "resolved"})
	})
	// The reminder comes repeat_interval after the alert fired, at the
	// next reminder round (every 5 s).
	waitFor(t, 100*time.Second, "a reminder of r-1", func() bool {
		return slices.Contains(alertsIn(hook.accepted("/resolved"), "r-1"), "reminder")
	})
	if since := time.Since(fired); since < 55*time.Second {
		t.Errorf("reminder after %s, want repeat_interval (1m) after the alert fired", since.Round(time.Second))
	}
	ct.set(false, "r-1")
	waitFor(t, 30*time.Second, "r-1's resolved message", func() bool {
		return slices.Contains(alertsIn(hook.accepted("/resolved"), "r-1"), "resolved")
	})
	time.Sleep(2 * time.Second)

	tests := []struct {
		path, check string
		want        []string
	}{
		{"/resolved", "r-1", []string{"firing", "reminder", "resolved"}},
		{"/resolved", "r-2", []string{"firing", "resolved"}},
		{"/quiet", "q-1", []string{"firing"}},
	}
	for _, tt := range tests {
		if got := alertsIn(hook.accepted(tt.path), tt.check); !slices.Equal(got, tt.want) {
			t.Errorf("%s heard of %s: %v, want %v", tt.path, tt.check, got, tt.want)
		}
	}
	for _, r := range hook.accepted("/resolved") {
		for _, a := range r.Doc.Alerts {
			if a.Name == "r-1" && a.State == model.AlertResolved && (a.EndsAt.IsZero() || !a.EndsAt.After(a.StartsAt)) {
				t.Errorf("resolved r-1 starts %s ends %s, want an end after the start", a.StartsAt, a.EndsAt)
			}
		}
	}
	d.stop()
}

// messageRange reads the item IDs a message id names
// ("dashd-HOST-CHANNEL-FIRST-LAST"; the host may contain dashes).
func messageRange(id string) (first, last uint64, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) < 4 {
		return 0, 0, false
	}
	f, err1 := strconv.ParseUint(parts[len(parts)-2], 10, 64)
	l, err2 := strconv.ParseUint(parts[len(parts)-1], 10, 64)
	return f, l, err1 == nil && err2 == nil && f <= l
}

// TestAlerts_ReceiverDownThenBack: while the receiver answers 503 and then
// refuses connections, checks keep changing; the channel's queue depth
// and last error show in /api/v1/channels; once it is back every queued
// change arrives, in order, none missed, none twice.
func TestAlerts_ReceiverDownThenBack(t *testing.T) {
	t.Parallel()
	ct := newCheckTarget(t)
	hook := newAlertHook(t)
	names := checkNames("d-", 4)
	dir := t.TempDir()
	cfg := writeConfigHead(t, dir, alertsHead, checksYAML(ct, names...)+fmt.Sprintf(`alerts:
  group_wait: 0s
  channels:
    - name: hook
      type: webhook
      url: %s
  routes:
    - channels: [hook]
      checks: ["*"]
`, hook.url("/hook")))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	waitStates(t, d, model.StateUp, names...)

	// One change delivered while all is well.
	ct.set(true, names[0])
	waitFor(t, 30*time.Second, "the first alert", func() bool { return len(hook.accepted("")) > 0 })

	var mu sync.Mutex
	maxPending := 0
	errorsSeen := map[string]bool{}
	watch := func() {
		h := channelHealth(t, d, "hook")
		mu.Lock()
		maxPending = max(maxPending, h.Pending)
		if h.LastError != "" {
			errorsSeen[h.LastError] = true
		}
		mu.Unlock()
	}
	flip := func(i int) {
		name := names[i%len(names)]
		ct.mu.Lock()
		down := !ct.down[name]
		ct.mu.Unlock()
		ct.set(down, name)
	}
	step := 0
	phase := func(dur time.Duration) {
		end := time.Now().Add(dur)
		for time.Now().Before(end) {
			flip(step)
			step++
			for range 15 {
				watch()
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	// Retries come after 1, 2, 4, 8 s (+-20%): four answered 503, the
	// fifth (12.5 to 19.5 s in) refused.
	hook.setFailing(true)
	phase(10 * time.Second)
	hook.down()
	phase(12 * time.Second)
	during := channelHealth(t, d, "hook")
	hook.setFailing(false)
	hook.up()

	waitFor(t, 90*time.Second, "the queue to drain after the receiver came back", func() bool {
		return channelHealth(t, d, "hook").Pending == 0
	})
	time.Sleep(2 * time.Second) // a change that happened just now
	waitFor(t, 30*time.Second, "the queue to drain", func() bool { return channelHealth(t, d, "hook").Pending == 0 })

	mu.Lock()
	t.Logf("while down: pending up to %d; errors seen: %q", maxPending, keysOf(errorsSeen))
	if maxPending < 3 {
		t.Errorf("/api/v1/channels showed at most %d pending while the receiver was down for 22 s with changes every 1.5 s", maxPending)
	}
	var saw503, sawRefused bool
	for e := range errorsSeen {
		saw503 = saw503 || strings.Contains(e, "503")
		sawRefused = sawRefused || strings.Contains(e, "refused")
	}
	if !saw503 || !sawRefused {
		t.Errorf("last_error showed %q, want a 503 and then a refused connection", keysOf(errorsSeen))
	}
	mu.Unlock()
	if during.Pending == 0 || during.LastError == "" {
		t.Errorf("just before the receiver came back: pending %d, last_error %q", during.Pending, during.LastError)
	}

	events := allEvents(t, d)
	reqs := hook.accepted("")
	tl := tally(events, reqs)
	if len(tl.missed) > 0 || len(tl.unexpected) > 0 || len(tl.dupMessages) > 0 || len(tl.malformed) > 0 {
		t.Errorf("missed %v; unexpected %v; duplicate messages %v; malformed %v", tl.missed, tl.unexpected, tl.dupMessages, tl.malformed)
	}
	// In order: item ranges increase, and the changes arrive in the order
	// of their events.
	var lastItem uint64
	var gotOrder []alertChange
	for _, r := range reqs {
		first, last, ok := messageRange(r.Doc.ID)
		if !ok || first <= lastItem {
			t.Errorf("message %s after item %d: out of order", r.Doc.ID, lastItem)
		}
		lastItem = last
		for _, a := range r.Doc.Alerts {
			at := a.StartsAt
			if a.State == model.AlertResolved {
				at = a.EndsAt
			}
			gotOrder = append(gotOrder, alertChange{alertIdent(a), string(a.State), stamp(at)})
		}
	}
	if want := expectedChanges(events); !slices.Equal(gotOrder, want) {
		t.Errorf("changes arrived in this order:\n%v\nwant the events' order:\n%v", gotOrder, want)
	}
	retried := 0
	for _, r := range hook.all() {
		if r.Status >= 300 {
			retried++
		}
	}
	t.Logf("%d changes while down; %d messages delivered; %d refused with 503", step, len(reqs), retried)
	d.stop()
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestAlerts_KillDuringStorm: 20 checks flip while dashd is killed with
// SIGKILL five times at random moments and restarted on the same data
// file. Every change the stored events call for is delivered at least
// once, and at most one message per kill is a duplicate.
func TestAlerts_KillDuringStorm(t *testing.T) {
	t.Parallel()
	const kills = 5
	ct := newCheckTarget(t)
	hook := newAlertHook(t)
	names := checkNames("k-", 20)
	dir := t.TempDir()
	data := filepath.Join(dir, "dashd.db")
	cfg := writeConfigHead(t, dir, alertsHead, checksYAML(ct, names...)+fmt.Sprintf(`alerts:
  group_wait: 0s
  channels:
    - name: hook
      type: webhook
      url: %s
  routes:
    - checks: ["*"]
      channels: [hook]
`, hook.url("/hook")))
	d := startDaemon(t, "--config", cfg, "--data", data)
	waitStates(t, d, model.StateUp, names...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			name := names[rand.IntN(len(names))]
			ct.mu.Lock()
			ct.down[name] = !ct.down[name]
			ct.mu.Unlock()
		}
	}()
	for i := range kills {
		time.Sleep(time.Duration(1500+rand.IntN(3000)) * time.Millisecond)
		if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		d.wait(10 * time.Second)
		t.Logf("kill %d after %d messages", i+1, len(hook.accepted("")))
		d = startDaemon(t, "--config", cfg, "--data", data)
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	ct.set(false, names...)
	waitStates(t, d, model.StateUp, names...)
	waitFor(t, 60*time.Second, "the queue to drain", func() bool { return channelHealth(t, d, "hook").Pending == 0 })
	time.Sleep(2 * time.Second)
	waitFor(t, 30*time.Second, "the queue to drain", func() bool { return channelHealth(t, d, "hook").Pending == 0 })

	events := allEvents(t, d)
	tl := tally(events, hook.accepted(""))
	want := expectedChanges(events)
	t.Logf("%d check events, %d changes to notify, %d messages accepted; missed %d, unexpected %d, duplicate messages %d",
		countChecks(events), len(want), tl.messages, len(tl.missed), len(tl.unexpected), len(tl.dupMessages))
	if len(tl.missed) > 0 {
		t.Errorf("%d changes never delivered: %v", len(tl.missed), tl.missed)
	}
	if t.Failed() {
		t.Logf("events and messages:\n%s", storyOf(events, hook.all()))
	}
	if len(tl.unexpected) > 0 {
		t.Errorf("%d alerts fired again without a new problem (a check still down after a restart): %v", len(tl.unexpected), tl.unexpected)
	}
	if len(tl.malformed) > 0 {
		t.Errorf("bodies that are not the webhook document: %v", tl.malformed)
	}
	if len(tl.dupMessages) > kills {
		t.Errorf("%d duplicate messages after %d kills, want at most one per kill: %v", len(tl.dupMessages), kills, tl.dupMessages)
	}
	// Flapping alerts may fire on: a check flaps for 10 minutes after its
	// changes.
	var stale []string
	for id := range firingAlerts(t, d) {
		if !strings.HasSuffix(id, " flapping") {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		t.Errorf("every check is up, yet %d alerts still fire: %v", len(stale), stale)
	}
	d.stop()
}

// storyOf interleaves stored events and received messages by time, for
// the log of a failed run.
func storyOf(events []model.Event, reqs []hookReq) string {
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, e := range events {
		text := fmt.Sprintf("event %d %s", e.ID, e.Kind)
		if e.Kind == model.EventCheck {
			text += fmt.Sprintf(" %s %s -> %s", e.Check, e.From, e.To)
		}
		lines = append(lines, line{e.Time, text})
	}
	for _, r := range reqs {
		var parts []string
		for _, c := range changesOf(r.Doc) {
			parts = append(parts, c.String())
		}
		lines = append(lines, line{r.At, fmt.Sprintf("  message %s (%d): %s", r.Key, r.Status, strings.Join(parts, "; "))})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s %s\n", l.at.UTC().Format("15:04:05.000"), l.text)
	}
	return b.String()
}

func countChecks(events []model.Event) int {
	n := 0
	for _, e := range events {
		if e.Kind == model.EventCheck {
			n++
		}
	}
	return n
}

// TestAlerts_SilenceAndMaintenance: a silence made through the API holds
// back exactly the check it names while another check's message arrives;
// expired, it lets the still-failing check's message go. A recurring
// maintenance window covering now holds back what it matches, and
// /api/v1/alerts shows both held alerts with held_by.
func TestAlerts_SilenceAndMaintenance(t *testing.T) {
	t.Parallel()
	ct := newCheckTarget(t)
	hook := newAlertHook(t)
	names := []string{"s-1", "s-2", "m-1"}
	now := time.Now().UTC()
	start, end := now.Add(-time.Hour).Format("15:04"), now.Add(time.Hour).Format("15:04")
	dir := t.TempDir()
	cfg := writeConfigHead(t, dir, alertsHead, checksYAML(ct, names...)+fmt.Sprintf(`alerts:
  group_wait: 0s
  channels:
    - name: hook
      type: webhook
      url: %s
  routes:
    - checks: ["*"]
      channels: [hook]
  maintenance:
    - name: upgrade
      start: "%s"
      end: "%s"
      timezone: UTC
      checks: [m-1]
`, hook.url("/hook"), start, end))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	waitStates(t, d, model.StateUp, names...)

	body := `{"checks": ["s-1"], "duration": "1h", "author": "alerts test", "comment": "deploying s-1"}`
	resp, err := http.Post(d.url("/api/v1/silences"), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/silences = %d: %s", resp.StatusCode, created)
	}
	var sil model.Silence
	if err := json.Unmarshal(created, &sil); err != nil || sil.ID == 0 {
		t.Fatalf("silence answer %s: %v", created, err)
	}

	ct.set(true, names...)
	waitFor(t, 30*time.Second, "s-2's message", func() bool { return len(alertsIn(hook.accepted(""), "s-2")) > 0 })
	waitFor(t, 30*time.Second, "all three alerts firing in /api/v1/alerts", func() bool { return len(firingAlerts(t, d)) == 3 })
	time.Sleep(3 * time.Second) // the held ones would have gone out by now
	for _, n := range []string{"s-1", "m-1"} {
		if got := alertsIn(hook.accepted(""), n); len(got) > 0 {
			t.Errorf("%s is held back, yet the receiver heard %v", n, got)
		}
	}
	f := firingAlerts(t, d)
	if want := fmt.Sprintf("silence #%d", sil.ID); f["s-1"].HeldBy != want {
		t.Errorf("s-1 held_by %q, want %q", f["s-1"].HeldBy, want)
	}
	if f["m-1"].HeldBy != "maintenance upgrade" {
		t.Errorf("m-1 held_by %q, want %q", f["m-1"].HeldBy, "maintenance upgrade")
	}
	if f["s-2"].HeldBy != "" || f["s-2"].State != model.AlertFiring {
		t.Errorf("s-2 in /api/v1/alerts: %+v, want firing and not held", f["s-2"])
	}

	req, _ := http.NewRequest(http.MethodDelete, d.url(fmt.Sprintf("/api/v1/silences/%d", sil.ID)), nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE silence = %d", resp.StatusCode)
	}
	expired := time.Now()
	waitFor(t, 30*time.Second, "s-1's message once its silence expired", func() bool {
		return len(alertsIn(hook.accepted(""), "s-1")) > 0
	})
	t.Logf("s-1's message arrived %s after the silence expired", time.Since(expired).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	if got := alertsIn(hook.accepted(""), "m-1"); len(got) > 0 {
		t.Errorf("m-1 is in maintenance, yet the receiver heard %v", got)
	}
	for _, n := range []string{"s-1", "s-2"} {
		if got := alertsIn(hook.accepted(""), n); !slices.Equal(got, []string{"firing"}) {
			t.Errorf("%s: receiver heard %v, want [firing] once", n, got)
		}
	}
	d.stop()
}

// startAlertmanager starts Debian's prometheus-alertmanager on a free
// loopback port (gossip off, no receivers) and returns its base URL. It
// skips loudly when the binary is absent, unless
// DASHD_REQUIRE_ALERTMANAGER=1.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv("DASHD_REQUIRE_ALERTMANAGER") == "1" {
			t.Fatalf("prometheus-alertmanager not found and DASHD_REQUIRE_ALERTMANAGER=1: %v", err)
		}
		t.Skip("SKIPPED: prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager); " +
			"set DASHD_REQUIRE_ALERTMANAGER=1 to fail instead")
	}
	dir := t.TempDir()
	cfg := "route:\n  receiver: none\nreceivers:\n  - name: none\n"
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var out bytes.Buffer
	var outMu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { outMu.Lock(); defer outMu.Unlock(); return out.Write(p) })
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			outMu.Lock()
			t.Logf("alertmanager output:\n%s", out.String())
			outMu.Unlock()
		}
	})
	base := "http://" + addr
	waitFor(t, 60*time.Second, "alertmanager ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// amAlerts lists Alertmanager's current alerts by alertname.
func amAlerts(t *testing.T, base string) map[string]map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	out := map[string]map[string]string{}
	for _, a := range list {
		out[a.Labels["alertname"]] = a.Labels
	}
	return out
}

// TestAlerts_RealAlertmanager: a check going down shows up in a real
// Alertmanager with dashd's labels; its recovery ends it there.
func TestAlerts_RealAlertmanager(t *testing.T) {
	t.Parallel()
	am := startAlertmanager(t)
	ct := newCheckTarget(t)
	names := []string{"am-1", "am-2"}
	dir := t.TempDir()
	cfg := writeConfigHead(t, dir, alertsHead, checksYAML(ct, names...)+fmt.Sprintf(`alerts:
  group_wait: 0s
  channels:
    - name: am
      type: alertmanager
      url: %s
      labels: {team: ops}
  routes:
    - checks: ["*"]
      channels: [am]
`, am))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	waitStates(t, d, model.StateUp, names...)

	ct.set(true, "am-1")
	waitFor(t, 30*time.Second, "am-1 in Alertmanager", func() bool { return amAlerts(t, am)["am-1"] != nil })
	host, _ := os.Hostname()
	labels := amAlerts(t, am)["am-1"]
	want := map[string]string{"alertname": "am-1", "check": "am-1", "host": host, "type": "http",
		"severity": "critical", "dashd_source": "check", "team": "ops"}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("Alertmanager label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
		}
	}
	if _, ok := amAlerts(t, am)["am-2"]; ok {
		t.Errorf("am-2 is up, yet Alertmanager lists it")
	}
	ct.set(false, "am-1")
	waitFor(t, 30*time.Second, "am-1 to end in Alertmanager", func() bool { return amAlerts(t, am)["am-1"] == nil })
	if h := channelHealth(t, d, "am"); h.Pending != 0 || h.Delivered < 2 {
		t.Errorf("channel am: %+v, want nothing pending and both messages delivered", h)
	}
	d.stop()
}
