package view

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// incidents of the view tests: one open and unacknowledged, one open,
// acknowledged and held, one resolved by hand, one on recovery.
var (
	incOpen = model.Incident{ID: 3, Title: "web is down", State: model.IncidentOpen, Started: t0.Add(-10 * time.Minute),
		Checks: []string{"web", "api"}, Failing: []string{"web"}, Entries: 2}
	incAcked = model.Incident{ID: 4, Title: "db is down", State: model.IncidentOpen, Started: t0.Add(-time.Hour),
		Acked: t0.Add(-time.Hour + 4*time.Minute + 10*time.Second), AckedBy: "alice", Held: true,
		Checks: []string{"db"}, Rules: []string{"rule:disk-full:/var"}, Failing: []string{}}
	incByHand = model.Incident{ID: 2, Title: "api is down", State: model.IncidentResolved, Started: t0.Add(-48 * time.Hour),
		Acked: t0.Add(-48*time.Hour + time.Minute), AckedBy: "bob", Resolved: t0.Add(-46 * time.Hour), ResolvedBy: "bob",
		Summary: "rolled back the deploy", Checks: []string{"api"}}
	incRecovered = model.Incident{ID: 1, Title: "web is down", State: model.IncidentResolved, Started: t0.Add(-3 * 24 * time.Hour),
		Resolved: t0.Add(-3*24*time.Hour + 42*time.Second), Checks: []string{"web"}}
)

func TestIncidentRow(t *testing.T) {
	tests := []struct {
		name                      string
		inc                       model.Incident
		open                      bool
		ackedBy, toAck, toResolve string
		resolvedText, startedText string
	}{
		{"open", incOpen, true, "", "", "", "", "14:50:00"},
		{"acked and held", incAcked, true, "alice", "4m 10s", "", "", "14:00:00"},
		{"resolved by hand", incByHand, false, "bob", "1m 0s", "2h 0m", "Mar 12 17:00", "Mar 12 15:00"},
		{"resolved on recovery", incRecovered, false, "", "", "42s", "Mar 11 15:00", "Mar 11 15:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := IncidentRow(tt.inc, t0)
			if r.Open != tt.open || r.AckedBy != tt.ackedBy || r.ToAck != tt.toAck || r.ToResolve != tt.toResolve ||
				r.ResolvedText != tt.resolvedText || r.StartedText != tt.startedText {
				t.Errorf("row %+v", r)
			}
			if r.URL() != "/incidents/"+strconv.FormatUint(tt.inc.ID, 10) {
				t.Errorf("URL %q", r.URL())
			}
		})
	}
}

func TestIncidentEntryRow(t *testing.T) {
	at := t0.Add(-time.Minute)
	tests := []struct {
		name                       string
		e                          model.IncidentEntry
		label, subject, change, st string
	}{
		{"state", model.IncidentEntry{Kind: model.EntryState, Check: "web", From: model.StateUp, To: model.StateDown, Text: "refused"}, "state", "web", "up → down", "down"},
		{"state up", model.IncidentEntry{Kind: model.EntryState, Check: "web", From: model.StateDown, To: model.StateUp}, "state", "web", "down → up", "up"},
		{"alert", model.IncidentEntry{Kind: model.EntryAlert, Rule: "rule:disk-full:/", From: model.StateUp, To: model.StateDown}, "alert", "rule:disk-full:/", "up → down", "down"},
		{"delivery", model.IncidentEntry{Kind: model.EntryDelivery, Check: "web", Text: "message sent to ops: web is down"}, "sent", "web", "", ""},
		{"ack", model.IncidentEntry{Kind: model.EntryAck, User: "alice", Text: "acknowledged"}, "acknowledged", "", "", ""},
		{"note", model.IncidentEntry{Kind: model.EntryNote, User: "alice", Text: "looking", Public: true}, "note", "", "", ""},
		{"chat", model.IncidentEntry{Kind: model.EntryChat, User: "bob", Text: "hi"}, "chat", "", "", ""},
		{"resolve", model.IncidentEntry{Kind: model.EntryResolve, Text: "everything recovered"}, "resolved", "", "", ""},
		{"reopen", model.IncidentEntry{Kind: model.EntryReopen, Check: "web", From: model.StateUp, To: model.StateDown}, "reopened", "web", "", "down"},
		{"hold", model.IncidentEntry{Kind: model.EntryHold, User: "alice", Text: "held open"}, "hold", "", "", ""},
		{"update", model.IncidentEntry{Kind: model.EntryUpdate, Text: "everything recovered; held open"}, "update", "", "", ""},
		{"note from another hub", model.IncidentEntry{Kind: model.EntryNote, User: "carol", Text: "on it", Origin: "hub-b", Action: "hub-b/12"}, "note", "", "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.Seq, tt.e.Time = uint64(i+1), at
			r := IncidentEntryRow(tt.e, t0)
			if r.Label != tt.label || r.Subject != tt.subject || r.Change != tt.change || r.State != tt.st ||
				r.Kind != string(tt.e.Kind) || r.User != tt.e.User || r.Text != tt.e.Text || r.Public != tt.e.Public || r.Origin != tt.e.Origin || r.When != "14:59:00" {
				t.Errorf("row %+v", r)
			}
		})
	}
}

// sse encodes events as the hub sends them.
func sse(t *testing.T, evs []hub.Event) []byte {
	t.Helper()
	b, err := hub.Encode(evs...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIncidentPush: the bytes the Manager pushes, golden: an entry
// appended to the timeline with the header and the state signals; the
// banner of open incidents, and hidden when none is left. People's text
// arrives as element text, escaped, never inside an attribute or a
// signal (the client would run $name and @name( there).
func TestIncidentPush(t *testing.T) {
	p := IncidentPush{Now: func() time.Time { return t0 }}
	ctx := context.Background()
	chat := model.IncidentEntry{Incident: 3, Seq: 3, Time: t0, Kind: model.EntryChat, User: "bob <b>", Text: `restart $web @post('/x') <script>`}
	tests := []struct {
		name string
		evs  []hub.Event
		want []string
	}{
		{"entry-chat", p.Entry(ctx, incOpen, chat), []string{"selector #incident-timeline", "mergeMode append", `id="ie-3"`,
			"restart $web @post(&#39;/x&#39;) &lt;script&gt;", "bob &lt;b&gt;", `"_incOpen":true`, `id="incident-head"`, "unacknowledged"}},
		{"entry-resolve", p.Entry(ctx, incByHand, model.IncidentEntry{Incident: 2, Seq: 9, Time: incByHand.Resolved, Kind: model.EntryResolve,
			User: "bob", Text: "rolled back the deploy"}), []string{`"_incOpen":false`, "resolved", "rolled back the deploy", "acknowledged by"}},
		{"entry-remote", p.Entry(ctx, incOpen, model.IncidentEntry{Incident: 3, Seq: 4, Time: t0, Kind: model.EntryAck,
			User: "carol", Text: "acknowledged", Origin: "hub-b <i>", Action: "hub-b/3"}), []string{`id="ie-4"`, "carol", "via hub-b &lt;i&gt;"}},
		{"open", p.Open(ctx, []model.Incident{incAcked, incOpen}), []string{`id="incident-banner"`, "2 open incidents",
			`href="/incidents/4"`, "acknowledged by", "alice", "unacknowledged", "held open"}},
		{"open-none", p.Open(ctx, nil), []string{`id="incident-banner"`, "hidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sse(t, tt.evs)
			for _, w := range tt.want {
				if !bytes.Contains(b, []byte(w)) {
					t.Errorf("no %q in\n%s", w, b)
				}
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "data: signals") && (strings.Contains(line, "bob") || strings.Contains(line, "$web")) {
					t.Errorf("people's text in a signal: %s", line)
				}
			}
			golden.Assert(t, "incident/"+tt.name+".sse", b)
		})
	}
}

// TestIncidentState: a (re)connecting incident page gets its header, the
// whole timeline (morphed, not appended) and the state signals.
func TestIncidentState(t *testing.T) {
	es := []model.IncidentEntry{
		{Incident: 3, Seq: 1, Time: incOpen.Started, Kind: model.EntryState, Check: "web", From: model.StateUp, To: model.StateDown, Text: "connection refused"},
		{Incident: 3, Seq: 2, Time: incOpen.Started.Add(time.Minute), Kind: model.EntryNote, User: "alice", Text: "looking", Public: true},
	}
	v := IncidentPage(incOpen, es, 7, t0)
	if v.Hidden != 7 || len(v.Entries) != 2 || v.Incident.ID != 3 {
		t.Fatalf("page %+v", v)
	}
	b := sse(t, IncidentState(context.Background(), v))
	if bytes.Contains(b, []byte("mergeMode append")) || !bytes.Contains(b, []byte(`id="incident-timeline"`)) {
		t.Errorf("the timeline is not replaced whole:\n%s", b)
	}
	golden.Assert(t, "incident/state.sse", b)
}

// TestDashboardState_IncidentBanner: the dashboard's initial state (and
// every reconnect's) carries the banner of open incidents.
func TestDashboardState_IncidentBanner(t *testing.T) {
	v := Dashboard(DashboardInput{Snapshot: snapshot(t0, 10), Incidents: []model.Incident{incOpen}, Now: t0})
	if len(v.Incidents) != 1 || v.Incidents[0].Title != "web is down" {
		t.Fatalf("dashboard incidents %+v", v.Incidents)
	}
	b := sse(t, DashboardState(context.Background(), v))
	if !bytes.Contains(b, []byte(`id="incident-banner"`)) || !bytes.Contains(b, []byte("unacknowledged")) {
		t.Errorf("no banner in the dashboard state:\n%.2000s", b)
	}
}

func TestIncidentStats(t *testing.T) {
	tests := []struct {
		name                   string
		count, acked, resolved int
		mtta, mttr             time.Duration
		wantMTTA, wantMTTR     string
	}{
		{"none", 0, 0, 0, 0, 0, "", ""},
		{"open, nobody on it", 1, 0, 0, 0, 0, "", ""},
		{"both", 3, 2, 3, 90 * time.Second, 2*time.Hour + 5*time.Minute, "1m 30s", "2h 5m"},
		{"days", 1, 1, 1, 20 * time.Second, 50 * time.Hour, "20s", "2d 2h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := IncidentStats("30 days", tt.count, tt.acked, tt.resolved, tt.mtta, tt.mttr)
			if w.MTTA != tt.wantMTTA || w.MTTR != tt.wantMTTR || w.Count != tt.count || w.Label != "30 days" {
				t.Errorf("%+v", w)
			}
		})
	}
}

// TestCheckIncidentsPanel: the placeholder asks for its figures; the
// answer does not ask again.
func TestCheckIncidentsPanel(t *testing.T) {
	var b bytes.Buffer
	if err := ui.CheckIncidents(ui.CheckIncidentsView{Check: "api.v2"}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `data-on-load="@get(&#39;/checks/api.v2/incidents&#39;)"`) {
		t.Errorf("placeholder:\n%s", b.String())
	}
	b.Reset()
	v := ui.CheckIncidentsView{Check: "api.v2", Loaded: true, Windows: []ui.IncidentStatsWindow{IncidentStats("30 days", 2, 1, 2, time.Minute, time.Hour)}}
	if err := ui.CheckIncidents(v).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "data-on-load") || !strings.Contains(b.String(), "1m 0s") || !strings.Contains(b.String(), "1h 0m") {
		t.Errorf("loaded panel:\n%s", b.String())
	}
}
