package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func testIncident(title string, started time.Time, checks ...string) model.Incident {
	return model.Incident{Title: title, State: model.IncidentOpen, Started: started, Checks: checks, Failing: slices.Clone(checks)}
}

func entry(kind model.EntryKind, at time.Time, text string) model.IncidentEntry {
	return model.IncidentEntry{Kind: kind, Time: at, Text: text}
}

func incidentIDs(incs []model.Incident) []uint64 {
	var out []uint64
	for _, i := range incs {
		out = append(out, i.ID)
	}
	return out
}

func entrySeqs(es []model.IncidentEntry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

// TestIncidents_Lifecycle: an incident is created with its first entry,
// changed with the entry that says why, given entries of its own; the
// sequence numbers count from 1 per incident, the open index follows the
// state, and an unknown incident is refused without failing other writes.
func TestIncidents_Lifecycle(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)

	inc, es, err := db.CreateIncident(ctx, testIncident("web is down", base, "web"),
		model.IncidentEntry{Kind: model.EntryState, Time: base, Check: "web", From: model.StateUp, To: model.StateDown, Text: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.ID != 1 || inc.Entries != 1 || len(es) != 1 || es[0].Seq != 1 || es[0].Incident != 1 || !inc.Updated.Equal(base) {
		t.Fatalf("created %+v %+v", inc, es)
	}
	other, _, err := db.CreateIncident(ctx, testIncident("db is down", base.Add(time.Second), "db"), entry(model.EntryUpdate, base.Add(time.Second), "opened"))
	if err != nil || other.ID != 2 {
		t.Fatalf("second incident %+v, %v", other, err)
	}

	inc.Checks = append(inc.Checks, "api")
	inc.Failing = append(inc.Failing, "api")
	inc, es, err = db.UpdateIncident(ctx, inc, entry(model.EntryState, base.Add(2*time.Second), "api joined"),
		entry(model.EntryAck, base.Add(3*time.Second), ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := entrySeqs(es); !slices.Equal(got, []uint64{2, 3}) || inc.Entries != 3 || !inc.Updated.Equal(base.Add(3*time.Second)) {
		t.Fatalf("update: seqs %v, incident %+v", got, inc)
	}
	es, err = db.AddIncidentEntries(ctx, 1, model.IncidentEntry{Kind: model.EntryChat, Time: base.Add(4 * time.Second), User: "ann", Address: "192.0.2.7", Text: "on it"})
	if err != nil || len(es) != 1 || es[0].Seq != 4 {
		t.Fatalf("AddIncidentEntries = %+v, %v", es, err)
	}

	got, ok, err := db.Incident(1)
	if err != nil || !ok {
		t.Fatalf("Incident(1) = %v, %v", ok, err)
	}
	if got.Title != "web is down" || !slices.Equal(got.Checks, []string{"web", "api"}) || got.Entries != 4 ||
		!got.Updated.Equal(base.Add(4*time.Second)) || !got.Started.Equal(base) || got.State != model.IncidentOpen {
		t.Fatalf("Incident(1) = %+v", got)
	}
	all, err := db.IncidentEntries(1, 0, 0)
	if err != nil || !slices.Equal(entrySeqs(all), []uint64{1, 2, 3, 4}) {
		t.Fatalf("entries %+v, %v", all, err)
	}
	if e := all[0]; e.Check != "web" || e.From != model.StateUp || e.To != model.StateDown || e.Text != "refused" || e.Kind != model.EntryState {
		t.Fatalf("first entry %+v", e)
	}
	if e := all[3]; e.User != "ann" || e.Address != "192.0.2.7" || e.Kind != model.EntryChat {
		t.Fatalf("chat entry %+v", e)
	}
	if es, _ := db.IncidentEntries(2, 0, 0); !slices.Equal(entrySeqs(es), []uint64{1}) {
		t.Fatalf("the other incident's entries %v: numbered per incident", entrySeqs(es))
	}

	open, err := db.OpenIncidents()
	if err != nil || !slices.Equal(incidentIDs(open), []uint64{2, 1}) {
		t.Fatalf("open = %v, %v", incidentIDs(open), err)
	}
	got.State, got.Resolved, got.ResolvedBy, got.Summary, got.Failing = model.IncidentResolved, base.Add(time.Minute), "ann", "restarted", nil
	if _, _, err := db.UpdateIncident(ctx, got, entry(model.EntryResolve, base.Add(time.Minute), "restarted")); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.OpenIncidents(); !slices.Equal(incidentIDs(open), []uint64{2}) {
		t.Fatalf("open after resolving 1 = %v", incidentIDs(open))
	}
	if got, _, _ := db.Incident(1); got.ResolvedBy != "ann" || got.Summary != "restarted" || len(got.Failing) != 0 || got.Failing == nil {
		t.Fatalf("resolved %+v (Failing must be [] not null)", got)
	}

	// Unknown incidents: ErrNotFound, and nothing written.
	if _, _, err := db.UpdateIncident(ctx, model.Incident{ID: 99, Title: "x", State: model.IncidentOpen, Started: base}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of unknown = %v, want ErrNotFound", err)
	}
	if _, err := db.AddIncidentEntries(ctx, 99, entry(model.EntryNote, base, "x")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("entries of unknown = %v, want ErrNotFound", err)
	}
	if es, _ := db.IncidentEntries(99, 0, 0); len(es) != 0 {
		t.Fatalf("entries of unknown stored: %+v", es)
	}
	if _, ok, _ := db.Incident(99); ok {
		t.Fatal("unknown incident reported")
	}
}

// TestIncidents_Pages: incidents and entries page with their cursors,
// newest incidents first, entries oldest first, bounded.
func TestIncidents_Pages(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	for i := range 7 {
		if _, _, err := db.CreateIncident(ctx, testIncident(fmt.Sprintf("i%d", i), base.Add(time.Duration(i)*time.Minute), "web")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if _, err := db.AddIncidentEntries(ctx, 3, entry(model.EntryNote, base, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		before uint64
		limit  int
		want   []uint64
	}{
		{0, 3, []uint64{7, 6, 5}},
		{5, 3, []uint64{4, 3, 2}},
		{2, 3, []uint64{1}},
		{1, 3, nil},
		{0, 0, []uint64{7, 6, 5, 4, 3, 2, 1}},
		{100, 2, []uint64{7, 6}},
	}
	for _, tt := range tests {
		got, err := db.Incidents(tt.before, tt.limit)
		if err != nil || !slices.Equal(incidentIDs(got), tt.want) {
			t.Errorf("Incidents(%d, %d) = %v, %v; want %v", tt.before, tt.limit, incidentIDs(got), err, tt.want)
		}
	}
	etests := []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 4, []uint64{1, 2, 3, 4}},
		{4, 4, []uint64{5, 6, 7, 8}},
		{8, 4, []uint64{9, 10}},
		{10, 4, nil},
	}
	for _, tt := range etests {
		got, err := db.IncidentEntries(3, tt.after, tt.limit)
		if err != nil || !slices.Equal(entrySeqs(got), tt.want) {
			t.Errorf("IncidentEntries(3, %d, %d) = %v, %v; want %v", tt.after, tt.limit, entrySeqs(got), err, tt.want)
		}
	}
}

// TestIncidentsOf: the incidents that involved a check and started in the
// window, newest first.
func TestIncidentsOf(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	day := 24 * time.Hour
	for i, checks := range [][]string{{"web"}, {"db"}, {"web", "db"}, {"api"}, {"db", "web"}} {
		if _, _, err := db.CreateIncident(ctx, testIncident("x", base.Add(time.Duration(i)*day), checks...)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		check string
		since time.Time
		want  []uint64
	}{
		{"web", base, []uint64{5, 3, 1}},
		{"web", base.Add(day), []uint64{5, 3}},
		{"db", base.Add(2 * day), []uint64{5, 3}},
		{"api", base, []uint64{4}},
		{"none", base, nil},
		{"web", base.Add(10 * day), nil},
	}
	for _, tt := range tests {
		got, err := db.IncidentsOf(tt.check, tt.since, 0)
		if err != nil || !slices.Equal(incidentIDs(got), tt.want) {
			t.Errorf("IncidentsOf(%s, %s) = %v, %v; want %v", tt.check, tt.since, incidentIDs(got), err, tt.want)
		}
	}
}

// TestIncidents_Invalid: what storage refuses, before anything is queued.
func TestIncidents_Invalid(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	ok := testIncident("web is down", base, "web")
	long := strings.Repeat("x", maxNameLen+1)
	many := make([]string, maxIncidentNames+1)
	for i := range many {
		many[i] = fmt.Sprint("c", i)
	}
	tests := []struct {
		name    string
		inc     func(model.Incident) model.Incident
		entries []model.IncidentEntry
	}{
		{"no title", func(i model.Incident) model.Incident { i.Title = ""; return i }, nil},
		{"long title", func(i model.Incident) model.Incident { i.Title = long; return i }, nil},
		{"bad state", func(i model.Incident) model.Incident { i.State = "closed"; return i }, nil},
		{"no start", func(i model.Incident) model.Incident { i.Started = time.Time{}; return i }, nil},
		{"start out of range", func(i model.Incident) model.Incident {
			i.Started = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
			return i
		}, nil},
		{"empty check name", func(i model.Incident) model.Incident { i.Checks = []string{""}; return i }, nil},
		{"long rule name", func(i model.Incident) model.Incident { i.Rules = []string{long}; return i }, nil},
		{"too many checks", func(i model.Incident) model.Incident { i.Checks = many; return i }, nil},
		{"long summary", func(i model.Incident) model.Incident { i.Summary = strings.Repeat("s", maxTextLen+1); return i }, nil},
		{"entry without kind", nil, []model.IncidentEntry{{Text: "x"}}},
		{"entry text too long", nil, []model.IncidentEntry{{Kind: model.EntryNote, Text: strings.Repeat("s", maxTextLen+1)}}},
		{"entry user too long", nil, []model.IncidentEntry{{Kind: model.EntryNote, User: long}}},
		{"too many entries", nil, make([]model.IncidentEntry, maxIncidentEntries+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := ok
			if tt.inc != nil {
				inc = tt.inc(inc)
			}
			if _, _, err := db.CreateIncident(ctx, inc, tt.entries...); !errors.Is(err, ErrInvalid) {
				t.Fatalf("CreateIncident = %v, want ErrInvalid", err)
			}
		})
	}
	if got, _ := db.Incidents(0, 0); len(got) != 0 {
		t.Fatalf("refused incidents stored: %+v", got)
	}
	if _, err := db.AddIncidentEntries(ctx, 0, entry(model.EntryNote, base, "x")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("entries without an incident ID = %v, want ErrInvalid", err)
	}
}

// TestIncidents_Retention: resolved incidents that resolved before the
// events cutoff go with every entry; open ones stay however old, and so
// do recent resolutions, with their entries, even in tiny transactions.
func TestIncidents_Retention(t *testing.T) {
	clk := newClock(base)
	opts := testOptions(clk)
	opts.Retention.Events = 24 * time.Hour
	db, _ := openTest(t, opts)
	ctx := ctxT(t)
	stop := startWriter(t, db)
	type spec struct {
		started, resolved time.Duration // from base; resolved 0: open
		keep              bool
	}
	specs := []spec{
		{0, time.Hour, false},                              // 1: resolved long ago
		{time.Hour, 0, true},                               // 2: open since long ago
		{2 * time.Hour, 3 * time.Hour, false},              // 3
		{3 * time.Hour, 71 * time.Hour, true},              // 4: started long ago, resolved recently
		{4 * time.Hour, 5 * time.Hour, false},              // 5
		{70 * time.Hour, 70*time.Hour + time.Minute, true}, // 6: recent
	}
	for i, s := range specs {
		inc := testIncident(fmt.Sprint("i", i), base.Add(s.started), "web")
		if s.resolved > 0 {
			inc.State, inc.Resolved, inc.Failing = model.IncidentResolved, base.Add(s.resolved), nil
		}
		var es []model.IncidentEntry
		for j := range 25 {
			es = append(es, entry(model.EntryState, base.Add(s.started), fmt.Sprint(j)))
		}
		if _, _, err := db.CreateIncident(ctx, inc, es...); err != nil {
			t.Fatal(err)
		}
	}
	// Run's own pass ran at its start, when nothing was old. With Run
	// stopped this goroutine owns the writer, as Close does.
	stop()
	clk.Set(base.Add(72 * time.Hour))
	steps := 0
	for {
		// A budget smaller than one incident's entries.
		more, err := db.retentionStep(7)
		if err != nil {
			t.Fatal(err)
		}
		steps++
		if !more {
			break
		}
	}
	for i, s := range specs {
		id := uint64(i + 1)
		_, ok, err := db.Incident(id)
		es, eerr := db.IncidentEntries(id, 0, 0)
		if err != nil || eerr != nil {
			t.Fatal(err, eerr)
		}
		if ok != s.keep || (s.keep && len(es) != 25) || (!s.keep && len(es) != 0) {
			t.Errorf("incident %d: stored %v with %d entries; want kept %v with all 25 or none", id, ok, len(es), s.keep)
		}
	}
	if steps < 3 {
		t.Errorf("retention took %d transactions; the budget should have split it", steps)
	}
}

// startWriter starts Run and returns a stop that ends it and waits (also
// called at cleanup, before the file is closed).
func startWriter(t testing.TB, db *DB) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestIncidents_SurviveReopen: incidents, the open index and the entry
// numbering are in the file: after a close and an open the numbering
// goes on where it stopped.
func TestIncidents_SurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dashd.db")
	opts := testOptions(newClock(base))
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	stop := startWriter(t, db)
	ctx := ctxT(t)
	inc, _, err := db.CreateIncident(ctx, testIncident("web is down", base, "web"), entry(model.EntryUpdate, base, "opened"), entry(model.EntryState, base, "down"))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(); checkFile(t, path) })
	startWriter(t, db)
	open, err := db.OpenIncidents()
	if err != nil || len(open) != 1 || open[0].ID != inc.ID || open[0].Entries != 2 {
		t.Fatalf("open after reopen = %+v, %v", open, err)
	}
	es, err := db.AddIncidentEntries(ctx, inc.ID, entry(model.EntryNote, base, "still here"))
	if err != nil || len(es) != 1 || es[0].Seq != 3 {
		t.Fatalf("entry after reopen = %+v, %v; want seq 3", es, err)
	}
	if next, _, err := db.CreateIncident(ctx, testIncident("db is down", base, "db")); err != nil || next.ID != inc.ID+1 {
		t.Fatalf("next incident %+v, %v", next, err)
	}
}

// TestIncidents_ConcurrentEntries: writers adding to one incident at once
// get every sequence number exactly once, with no gap.
func TestIncidents_ConcurrentEntries(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	inc, _, err := db.CreateIncident(ctx, testIncident("web is down", base, "web"))
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	var mu sync.Mutex
	seen := map[uint64]int{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var es []model.IncidentEntry
				var err error
				if i%5 == 0 {
					inc := inc
					inc.Failing = nil
					_, es, err = db.UpdateIncident(ctx, inc, entry(model.EntryState, base, fmt.Sprint(w, i)))
				} else {
					es, err = db.AddIncidentEntries(ctx, inc.ID, entry(model.EntryChat, base, fmt.Sprint(w, i)))
				}
				if err != nil || len(es) != 1 {
					t.Errorf("write: %v", err)
					return
				}
				mu.Lock()
				seen[es[0].Seq]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for seq := uint64(1); seq <= writers*each; seq++ {
		if seen[seq] != 1 {
			t.Errorf("seq %d handed out %d times", seq, seen[seq])
		}
	}
	all, err := db.IncidentEntries(inc.ID, 0, 0)
	if err != nil || len(all) != writers*each {
		t.Fatalf("%d entries stored, %v", len(all), err)
	}
	if got, _, _ := db.Incident(inc.ID); got.Entries != writers*each {
		t.Fatalf("Entries = %d, want %d", got.Entries, writers*each)
	}
}
