package view_test

import (
	"context"
	"encoding/xml"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// statusNow is the fixed clock of the status page fixtures: a Tuesday,
// inside the daily 12:00-13:00 maintenance window of check postgres-main.
var statusNow = time.Date(2026, 3, 10, 12, 34, 56, 0, time.UTC)

const statusConfig = `
status_page:
  enabled: true
  title: Example Services
  description: Live state of our public services.
  footer: "Questions: status@example.org"
  groups: [web]
  checks: [postgres-main]
  names: {web-frontend: Website, postgres-main: Database}
  group_names: {web: Web}
alerts:
  maintenance:
    - {name: Database upgrade, start: "12:00", end: "13:00", checks: [postgres-main]}
    - {name: Website move, from: "2026-03-12 02:00", to: "2026-03-12 04:00", groups: [web]}
    - {name: Host reboot, start: "03:00", end: "03:30", rules: ["rule:*"]}
    - {name: Old window, from: "2026-03-01 02:00", to: "2026-03-01 04:00", checks: [web-frontend]}
checks:
  - {name: web-frontend, type: tcp, address: "127.0.0.1:1", group: web}
  - {name: api, type: tcp, address: "127.0.0.1:1", group: web}
  - {name: postgres-main, type: tcp, address: "127.0.0.1:1", group: db}
  - {name: secret-batch, type: tcp, address: "127.0.0.1:1", group: internal}
`

// statusDB is a real history file with a fixed clock.
func statusDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "dashd.db"), storage.Options{Clock: func() time.Time { return statusNow }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("storage run: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("storage close: %v", err)
		}
	})
	return db
}

// storedIncidents reads incidents from the real store as the incident
// manager does (the open ones from storage rather than its memory).
type storedIncidents struct{ db *storage.DB }

func (s storedIncidents) Open() []model.Incident {
	incs, err := s.db.OpenIncidents()
	if err != nil {
		panic(err)
	}
	return incs
}
func (s storedIncidents) List(before uint64, limit int) ([]model.Incident, error) {
	return s.db.Incidents(before, limit)
}
func (s storedIncidents) Entries(id, after uint64, limit int) ([]model.IncidentEntry, error) {
	return s.db.IncidentEntries(id, after, limit)
}

// statusFixture stores results over three days and four incidents, and
// returns the inputs of a build at statusNow.
func statusFixture(t *testing.T) view.StatusInputs {
	t.Helper()
	cfg, err := config.Parse("status.yaml", []byte(statusConfig), config.Options{CheckTypes: collectors.Types(),
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	db := statusDB(t)
	ctx := context.Background()
	day := 24 * time.Hour
	res := func(check string, at time.Time, st model.State) {
		if err := db.WriteResult(model.Result{Check: check, Time: at, State: st, Latency: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		at := statusNow.Add(-2*day + time.Duration(i)*time.Minute)
		res("web-frontend", at, model.StateUp)
		state := model.StateUp
		if i < 3 {
			state = model.StateDown
		}
		res("web-frontend", at.Add(day), state) // 97% yesterday
		res("web-frontend", at.Add(2*day-3*time.Hour), model.StateUp)
		res("api", at.Add(2*day-3*time.Hour), model.StateDown)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	create := func(inc model.Incident, es ...model.IncidentEntry) model.Incident {
		stored, _, err := db.CreateIncident(ctx, inc, es...)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	open := create(model.Incident{Title: "api is down", State: model.IncidentOpen, Started: statusNow.Add(-3 * time.Hour),
		Checks: []string{"api", "secret-batch"}, Failing: []string{"api"}},
		model.IncidentEntry{Kind: model.EntryUpdate, Time: statusNow.Add(-3 * time.Hour), Text: "opened: api is down"})
	if _, err := db.AddIncidentEntries(ctx, open.ID,
		model.IncidentEntry{Kind: model.EntryNote, Time: statusNow.Add(-2 * time.Hour), User: "alice", Address: "10.9.9.9", Text: "We are investigating slow answers.", Public: true},
		model.IncidentEntry{Kind: model.EntryNote, Time: statusNow.Add(-90 * time.Minute), User: "alice", Text: "PRIVATE: rotated the db password on 10.1.2.3"},
		model.IncidentEntry{Kind: model.EntryChat, Time: statusNow.Add(-80 * time.Minute), User: "bob", Text: "CHAT: is it the load balancer?"},
		model.IncidentEntry{Kind: model.EntryNote, Time: statusNow.Add(-time.Hour), User: "alice", Text: "A fix is rolling out.", Public: true},
	); err != nil {
		t.Fatal(err)
	}
	create(model.Incident{Title: "web-frontend is down", State: model.IncidentResolved, Started: statusNow.Add(-3 * day),
		Resolved: statusNow.Add(-3*day + 40*time.Minute), ResolvedBy: "alice", Summary: "SUMMARY: internal root cause",
		Checks: []string{"web-frontend"}},
		model.IncidentEntry{Kind: model.EntryNote, Time: statusNow.Add(-3*day + 30*time.Minute), Text: "Service restored.", Public: true})
	create(model.Incident{Title: "secret-batch is down", State: model.IncidentOpen, Started: statusNow.Add(-time.Hour),
		Checks: []string{"secret-batch"}, Rules: []string{"rule:disk-full:/var"}})
	create(model.Incident{Title: "web-frontend is down", State: model.IncidentResolved, Started: statusNow.Add(-30 * day),
		Resolved: statusNow.Add(-30*day + time.Hour), Checks: []string{"web-frontend"}})
	statuses := []collectors.Status{
		{Name: "web-frontend", Group: "web", State: model.StateUp},
		{Name: "api", Group: "web", State: model.StateDown, Reason: "dial tcp 10.1.2.3:443: connection refused"},
		{Name: "postgres-main", Group: "db", State: model.StateDown, Reason: "dial tcp 10.1.2.4:5432: connection refused"},
		{Name: "secret-batch", Group: "internal", State: model.StateDown, Reason: "exit status 1"},
	}
	return view.StatusInputs{Config: cfg, Checks: statuses, Uptime: db, Incidents: storedIncidents{db}, Now: statusNow}
}

// internals are strings of the fixture that must never reach the page or
// the feed: a check not chosen, reasons, private notes, chat, people,
// addresses, summaries, internal titles, host alerts.
var internals = []string{"secret-batch", "10.1.2.3", "10.1.2.4", "connection refused", "PRIVATE", "CHAT", "alice", "bob",
	"10.9.9.9", "SUMMARY", "api is down", "rule:", "Host reboot", "Old window", "web-frontend", "postgres-main", "internal"}

func TestStatusPage_Golden(t *testing.T) {
	in := statusFixture(t)
	v, err := view.StatusPage(in)
	if err != nil {
		t.Fatal(err)
	}
	assets, err := ui.LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := ui.StatusPage(assets, v).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// Asset URLs carry content hashes of files other packages own.
	golden.Assert(t, "statuspage/page.html", regexp.MustCompile(`/static/[^"]+`).ReplaceAllLiteral([]byte(page), []byte("/static/ASSET")))
	if !strings.Contains(page, `href="`+assets.URL("status.css")+`"`) {
		t.Errorf("the page does not link its own stylesheet")
	}
	for _, s := range internals {
		if strings.Contains(page, s) {
			t.Errorf("the page leaks %q", s)
		}
	}
	for _, s := range []string{"Partial outage", "Website", "Database", "Under maintenance", "Database upgrade", "Website move",
		"We are investigating slow answers.", "A fix is rolling out.", "Service restored.", "Service disruption: api",
		`title="2026-03-09: 97.00% up"`, `title="2026-03-01: no data"`, `href="/status/feed.atom"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	feed, err := view.StatusFeed(v, "", statusNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "statuspage/feed.atom", feed)
}

func TestStatusPage_ShowReasons(t *testing.T) {
	in := statusFixture(t)
	cfg := *in.Config
	cfg.StatusPage.ShowReasons = true
	in.Config = &cfg
	v, err := view.StatusPage(in)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, g := range v.Groups {
		for _, c := range g.Checks {
			reasons[c.Name] = c.Reason
		}
	}
	// Reasons of failing checks, not of one under maintenance.
	if reasons["api"] != "dial tcp 10.1.2.3:443: connection refused" || reasons["Database"] != "" || reasons["Website"] != "" {
		t.Errorf("reasons = %q", reasons)
	}
}

// TestStatusFeed_Atom: the feed is Atom 1.0 as a reader parses it, with
// the public notes of each shown incident and nothing private.
func TestStatusFeed_Atom(t *testing.T) {
	tests := []struct {
		name, base, feedID, entryID, link string
	}{
		{"no external url", "", "urn:dashd:status-page", "urn:dashd:status-page:incident:1", "/status#incident-1"},
		{"external url", "https://status.example.org/", "https://status.example.org/status",
			"https://status.example.org/status#incident-1", "https://status.example.org/status#incident-1"},
	}
	in := statusFixture(t)
	v, err := view.StatusPage(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := view.StatusFeed(v, tt.base, statusNow)
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
				ID      string   `xml:"id"`
				Title   string   `xml:"title"`
				Updated string   `xml:"updated"`
				Author  string   `xml:"author>name"`
				Entries []struct {
					ID      string `xml:"id"`
					Title   string `xml:"title"`
					Updated string `xml:"updated"`
					Link    struct {
						Href string `xml:"href,attr"`
					} `xml:"link"`
					Content string `xml:"content"`
				} `xml:"entry"`
			}
			if err := xml.Unmarshal(b, &f); err != nil {
				t.Fatalf("not XML Atom: %v\n%s", err, b)
			}
			if f.ID != tt.feedID || f.Title != "Example Services" || f.Author == "" || f.Updated == "" {
				t.Errorf("feed = id %q title %q author %q updated %q", f.ID, f.Title, f.Author, f.Updated)
			}
			if len(f.Entries) != 2 {
				t.Fatalf("%d entries, want the open and the past incident of shown checks", len(f.Entries))
			}
			e := f.Entries[0]
			if e.ID != tt.entryID || e.Link.Href != tt.link || e.Title != "Service disruption: api" {
				t.Errorf("entry = %+v", e)
			}
			if !strings.Contains(e.Content, "A fix is rolling out.") || !strings.Contains(e.Content, "We are investigating") {
				t.Errorf("entry content lacks the public notes: %q", e.Content)
			}
			if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.Updated != "2026-03-10T11:34:56Z" {
				t.Errorf("entry updated = %q (%v), want the newest public note's time", e.Updated, err)
			}
			for _, s := range internals {
				if strings.Contains(string(b), s) {
					t.Errorf("the feed leaks %q", s)
				}
			}
		})
	}
}

// TestStatusPatches: a state change sends that check's row and the
// banner; nothing changed sends nothing; a new layout sends the whole.
func TestStatusPatches(t *testing.T) {
	in := statusFixture(t)
	ctx := context.Background()
	v, err := view.StatusPage(in)
	if err != nil {
		t.Fatal(err)
	}
	evs, sent, err := view.StatusPatches(ctx, v, view.StatusSent{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("first patches: %d events, %v", len(evs), err)
	}
	if first := eventText(t, evs); !strings.Contains(first, `id="status-main"`) {
		t.Errorf("first patch is not the whole main part")
	}
	evs, sent, err = view.StatusPatches(ctx, v, sent)
	if err != nil || len(evs) != 0 {
		t.Fatalf("unchanged: %d events, %v", len(evs), err)
	}
	in.Checks[1].State = model.StateUp // api recovers
	v2, err := view.StatusPage(in)
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err = view.StatusPatches(ctx, v2, sent)
	if err != nil || len(evs) != 1 {
		t.Fatalf("after a change: %d events, %v", len(evs), err)
	}
	got := eventText(t, evs)
	for _, want := range []string{`id="sp-check-2"`, `id="status-banner"`, "Scheduled maintenance in progress"} {
		if !strings.Contains(got, want) {
			t.Errorf("patch lacks %s", want)
		}
	}
	for _, not := range []string{`id="sp-check-1"`, `id="status-main"`, `id="status-incidents"`} {
		if strings.Contains(got, not) {
			t.Errorf("patch resends unchanged %s", not)
		}
	}
}

func eventText(t *testing.T, evs []hub.Event) string {
	t.Helper()
	b, err := hub.Encode(evs...)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStatusPage_Maintenance(t *testing.T) {
	tests := []struct {
		name     string
		window   string
		now      time.Time
		want     string // "" when the window is not listed
		active   bool
		nextWake time.Time
	}{
		{"recurring, going on", `{name: w, start: "12:00", end: "13:00"}`, statusNow,
			"2026-03-10 12:00 UTC to 2026-03-10 13:00 UTC", true, time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)},
		{"recurring, later today", `{name: w, start: "20:00", end: "21:00"}`, statusNow,
			"2026-03-10 20:00 UTC to 2026-03-10 21:00 UTC", false, time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC)},
		{"wraps past midnight, morning part", `{name: w, start: "23:00", end: "02:00", weekdays: [mon]}`, time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC),
			"2026-03-09 23:00 UTC to 2026-03-10 02:00 UTC", true, time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)},
		{"weekday next week", `{name: w, start: "01:00", end: "02:00", weekdays: [mon]}`, statusNow,
			"2026-03-16 01:00 UTC to 2026-03-16 02:00 UTC", false, time.Time{}},
		{"time zone", `{name: w, start: "13:00", end: "14:00", timezone: Europe/Berlin}`, statusNow,
			"2026-03-10 12:00 UTC to 2026-03-10 13:00 UTC", true, time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)},
		{"one-off ended", `{name: w, from: "2026-03-01 00:00", to: "2026-03-02 00:00"}`, statusNow, "", false, time.Time{}},
		{"rules only", `{name: w, start: "12:00", end: "13:00", rules: ["rule:*"]}`, statusNow, "", false, time.Time{}},
		{"other group", `{name: w, start: "12:00", end: "13:00", groups: [db]}`, statusNow, "", false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "status_page: {enabled: true, groups: [web]}\nalerts:\n  maintenance:\n    - " + tt.window +
				"\nchecks:\n  - {name: home, type: tcp, address: '127.0.0.1:1', group: web}\n  - {name: pg, type: tcp, address: '127.0.0.1:1', group: db}\n"
			cfg, err := config.Parse("m.yaml", []byte(src), config.Options{CheckTypes: collectors.Types()})
			if err != nil {
				t.Fatal(err)
			}
			in := view.StatusInputs{Config: cfg, Checks: []collectors.Status{{Name: "home", Group: "web", State: model.StateDown}},
				Uptime: statusDB(t), Incidents: storedIncidents{statusDB(t)}, Now: tt.now}
			v, err := view.StatusPage(in)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			active := false
			if len(v.Maintenance) > 0 {
				m := v.Maintenance[0]
				got = m.From.UTC().Format("2006-01-02 15:04 UTC") + " to " + m.To.UTC().Format("2006-01-02 15:04 UTC")
				active = m.Active
			}
			if got != tt.want || active != tt.active {
				t.Errorf("maintenance = %q active %v, want %q active %v", got, active, tt.want, tt.active)
			}
			if label := v.Groups[0].Checks[0].Label; (label == "Under maintenance") != tt.active {
				t.Errorf("check label %q with the window active %v", label, tt.active)
			}
			limit := tt.now.Add(24 * time.Hour)
			want := tt.nextWake
			if want.IsZero() || want.After(limit) {
				want = limit
			}
			if next := view.NextStatusChange(cfg, cfg.StatusPage.Shows, tt.now, limit); !next.Equal(want) {
				t.Errorf("NextStatusChange = %s, want %s", next, want)
			}
		})
	}
}

func TestStatusPage_Banner(t *testing.T) {
	tests := []struct {
		name   string
		states []model.State
		want   string
	}{
		{"all up", []model.State{model.StateUp, model.StateUp}, "All systems operational"},
		{"one down", []model.State{model.StateUp, model.StateDown}, "Partial outage"},
		{"all down", []model.State{model.StateDown, model.StateDown}, "Major outage"},
		{"degraded", []model.State{model.StateDegraded, model.StateUp}, "Degraded performance"},
		{"pending", []model.State{model.StateUnknown, model.StateUnknown}, "Waiting for the first results"},
		{"up and pending", []model.State{model.StateUp, model.StateUnknown}, "All systems operational"},
	}
	src := "status_page: {enabled: true, checks: [a, b]}\nchecks:\n  - {name: a, type: tcp, address: '127.0.0.1:1'}\n  - {name: b, type: tcp, address: '127.0.0.1:1'}\n"
	cfg, err := config.Parse("b.yaml", []byte(src), config.Options{CheckTypes: collectors.Types()})
	if err != nil {
		t.Fatal(err)
	}
	db := statusDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := view.StatusInputs{Config: cfg, Uptime: db, Incidents: storedIncidents{db}, Now: statusNow,
				Checks: []collectors.Status{{Name: "a", State: tt.states[0]}, {Name: "b", State: tt.states[1]}}}
			v, err := view.StatusPage(in)
			if err != nil {
				t.Fatal(err)
			}
			if v.Banner.Text != tt.want {
				t.Errorf("banner = %q, want %q", v.Banner.Text, tt.want)
			}
			if len(v.Groups) != 1 || v.Groups[0].Name != "Services" || len(v.Groups[0].Checks) != 2 {
				t.Errorf("groups = %+v", v.Groups)
			}
		})
	}
}
