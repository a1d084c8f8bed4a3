package fleetview

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// TestCheckRoom: a check page's room names its host, range and check
// (a check name with '/' included), parses back, and is counted under
// its own room kind; other rooms are not check rooms.
func TestCheckRoom(t *testing.T) {
	tests := []struct {
		name, host, check, rng string
	}{
		{"fitted", "web-1", "nginx", ""},
		{"range", "web-1", "nginx", "24h"},
		{"slash in check", "db-1", "disk:/var/lib", "7d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			room := CheckRoom(tt.host, tt.check, tt.rng)
			if k := hub.RoomKind(room); k != "fleetcheck" {
				t.Errorf("RoomKind(%q) = %q, want fleetcheck", room, k)
			}
			h, c, r, ok := checkOfRoom(room)
			if !ok || h != tt.host || c != tt.check || r != tt.rng {
				t.Errorf("checkOfRoom(%q) = %q %q %q %v", room, h, c, r, ok)
			}
			if _, ok := hostOfRoom(room); ok {
				t.Errorf("%q taken for a host page's room", room)
			}
		})
	}
	for _, room := range []string{"fleethost:web-1", "fleet:", "check:nginx", "fleetcheck:web-1", "fleetcheck:web-1/24h/", "fleetcheck:/24h/x"} {
		if _, _, _, ok := checkOfRoom(room); ok {
			t.Errorf("checkOfRoom(%q) ok", room)
		}
	}
}

// ids are the ids of the fragments in events, in order.
func ids(t *testing.T, evs []hub.Event) []string {
	t.Helper()
	b, err := hub.Encode(evs...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, part := range strings.Split(string(b), "data: fragments <")[1:] {
		_, rest, ok := strings.Cut(part, ` id="`)
		if !ok {
			continue
		}
		out = append(out, rest[:strings.IndexByte(rest, '"')])
	}
	return out
}

// TestFragSent_Diff: a check page's room gets each fragment only when it
// changed, NaN uptime figures included (their models never compare
// equal; their HTML does).
func TestFragSent_Diff(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	base := func() ui.CheckDetailView {
		return ui.CheckDetailView{Name: "nginx", State: model.StateUp, Reason: "HTTP 200", Latency: "12 ms",
			Uptime:  []ui.UptimeWindow{{Label: "24 hours", Pct: math.NaN()}},
			Days:    []ui.UptimeDay{{Day: now, Pct: math.NaN()}},
			Chart:   ui.ChartView{ID: "latency-chart", From: now.Add(-time.Hour), To: now, Points: []ui.ChartPoint{{Time: now, Value: 12}}},
			Results: []ui.ResultRow{{At: now, When: "12:00:00", State: model.StateUp, Latency: "12 ms"}}}
	}
	ctx := context.Background()
	var s fragSent
	all := []string{ui.CheckSummaryID, ui.CheckUptimeID, ui.CheckLatencyID, ui.CheckResultsID, ui.CheckEventsID}
	if got := ids(t, s.diff(ctx, checkFragments(base()))); strings.Join(got, " ") != strings.Join(all, " ") {
		t.Fatalf("first diff sent %v, want every fragment %v", got, all)
	}
	tests := []struct {
		name   string
		change func(v *ui.CheckDetailView)
		want   []string
	}{
		{"unchanged", func(*ui.CheckDetailView) {}, nil},
		{"new result", func(v *ui.CheckDetailView) {
			v.Results = append([]ui.ResultRow{{At: now.Add(time.Second), When: "12:00:01", State: model.StateUp, Latency: "13 ms"}}, v.Results...)
		}, []string{ui.CheckResultsID}},
		{"down", func(v *ui.CheckDetailView) {
			v.State, v.Reason = model.StateDown, "HTTP 503"
			v.Events = []ui.EventRow{{ID: 1, Check: "nginx", State: model.StateDown, Text: "nginx is down: HTTP 503"}}
		}, []string{ui.CheckSummaryID, ui.CheckEventsID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := base()
			s.diff(ctx, checkFragments(v)) // back to the base
			tt.change(&v)
			if got := ids(t, s.diff(ctx, checkFragments(v))); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("sent %v, want %v", got, tt.want)
			}
		})
	}
}

// checkTest is a Fleet over a real store holding agent web-1's nginx,
// with a clock the test moves.
type checkTest struct {
	t   testing.TB
	db  *storage.DB
	f   *Fleet
	now time.Time
}

func newCheckTest(t testing.TB) *checkTest {
	db, err := storage.Open(filepath.Join(t.TempDir(), "hub.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	ct := &checkTest{t: t, db: db, now: time.Now().Truncate(time.Second)}
	ct.f, err = New(Options{Store: db, Latest: state.New(config.Default(), ct.now), Checks: collectors.NewRunner(collectors.RunnerOptions{}),
		Hub: hub.New(), Hostname: "hub", Now: func() time.Time { return ct.now }})
	if err != nil {
		t.Fatal(err)
	}
	ct.ingest(storage.HostBatch{Hellos: []storage.HostInfo{{Name: "web-1", OS: "linux"}}})
	return ct
}

func (ct *checkTest) ingest(b storage.HostBatch) {
	ct.t.Helper()
	b.Seen = map[string]time.Time{"web-1": ct.now}
	if err := ct.db.IngestHosts(b); err != nil {
		ct.t.Fatal(err)
	}
}

// result stores a result of check at the test's now, and the state
// change when from != to.
func (ct *checkTest) result(check string, from, to model.State, reason string, id uint64) {
	ct.t.Helper()
	b := storage.HostBatch{Results: []storage.HostResult{{Host: "web-1", Result: model.Result{Check: check, Time: ct.now,
		State: to, Latency: 12 * time.Millisecond, Reason: reason}}}}
	if from != to {
		b.Events = []storage.HostEvent{{Host: "web-1", Event: model.Event{ID: id, Time: ct.now, Kind: model.EventCheck,
			Check: check, From: from, To: to, Reason: reason}}}
	}
	ct.ingest(b)
}

// TestCheckTick: a watched agent check page gets the whole page once,
// then nothing while nothing changes; new results within checkRefresh
// wait for it, a state change goes out at once (the summary and the
// events, not the page's other parts unless they moved), and another
// check's results cause no rebuild.
func TestCheckTick(t *testing.T) {
	ct := newCheckTest(t)
	ctx := context.Background()
	ct.result("nginx", model.StateUnknown, model.StateUp, "HTTP 200", 1)
	var s sent
	tick := func(advance time.Duration) []string {
		t.Helper()
		ct.now = ct.now.Add(advance)
		return ids(t, ct.f.checkTick(ctx, &s, "web-1", "nginx", ""))
	}
	if got := tick(time.Second); len(got) != 5 {
		t.Fatalf("first tick sent %v, want the whole page", got)
	}
	if got := tick(0); len(got) != 0 {
		t.Errorf("a tick with nothing new sent %v", got)
	}
	built := s.check.built

	ct.now = ct.now.Add(time.Second)
	ct.result("nginx", model.StateUp, model.StateUp, "HTTP 200", 0)
	ct.result("postgres", model.StateUnknown, model.StateUp, "", 2) // another check: a new host event
	if got := tick(0); !s.check.built.After(built) {
		t.Errorf("a new host event did not rebuild the page (sent %v)", got)
	}
	built = s.check.built

	ct.now = ct.now.Add(time.Second)
	ct.result("nginx", model.StateUp, model.StateUp, "HTTP 200", 0)
	if got := tick(0); s.check.built != built || strings.Contains(strings.Join(got, " "), ui.CheckResultsID) {
		t.Errorf("a new result within checkRefresh rebuilt the page: sent %v", got)
	}
	if got := tick(checkRefresh); !strings.Contains(strings.Join(got, " "), ui.CheckResultsID) {
		t.Errorf("after checkRefresh the new result was not sent: sent %v", got)
	}
	if got := tick(0); len(got) != 0 {
		t.Errorf("a tick with nothing new sent %v", got)
	}

	ct.now = ct.now.Add(time.Second)
	ct.result("nginx", model.StateUp, model.StateDown, "HTTP 503", 3)
	evs := ct.f.checkTick(ctx, &s, "web-1", "nginx", "")
	got := strings.Join(ids(t, evs), " ")
	for _, want := range []string{ui.CheckSummaryID, ui.CheckEventsID, ui.CheckResultsID} {
		if !strings.Contains(got, want) {
			t.Errorf("the state change sent %v, lacking %s", got, want)
		}
	}
	b, _ := hub.Encode(evs...)
	if !strings.Contains(string(b), "HTTP 503") || !strings.Contains(string(b), "st-down") {
		t.Errorf("the state change's summary does not say down: %.400s", b)
	}

	// An unknown check's room sends nothing.
	var other sent
	if evs := ct.f.checkTick(ctx, &other, "web-1", "nope", ""); len(evs) != 0 {
		t.Errorf("an unknown check's room got %d events", len(evs))
	}
}

// TestCheckPage_NewestResults: on a host whose other checks fill the
// results bucket, the page shows the check's newest results, not the
// oldest the scan bound reaches.
func TestCheckPage_NewestResults(t *testing.T) {
	ct := newCheckTest(t)
	start := ct.now
	ct.result("nginx", model.StateUnknown, model.StateUp, "old", 1)
	var b storage.HostBatch
	for i := range checkScan + 10 {
		b.Results = append(b.Results, storage.HostResult{Host: "web-1", Result: model.Result{Check: "other",
			Time: start.Add(time.Duration(i+1) * time.Millisecond), State: model.StateUp}})
	}
	ct.ingest(b)
	ct.now = start.Add(time.Hour)
	ct.result("nginx", model.StateUp, model.StateUp, "newest", 0)
	v, err := ct.f.CheckPage("web-1", "nginx", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Results) == 0 || v.Results[0].Reason != "newest" {
		t.Errorf("last results %+v, want the newest first", v.Results)
	}
}
