package storage

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// checkAlert is the alert of a check going down at at.
func checkAlert(check string, state model.AlertState, at time.Time) model.Alert {
	return model.Alert{Key: "check:" + check, Source: model.AlertSourceCheck, Name: check,
		Labels: map[string]string{"host": "db-1", "check": check, "group": "web"}, Severity: "critical",
		State: state, Summary: check + " is down", Reason: "HTTP 503", StartsAt: at,
		URL: "https://dash.example.org/checks/" + check}
}

// itemsFor is one pending item of a per channel.
func itemsFor(a model.Alert, channels ...string) []model.OutboxItem {
	out := make([]model.OutboxItem, len(channels))
	for i, ch := range channels {
		out[i] = model.OutboxItem{Channel: ch, Alert: a}
	}
	return out
}

// utcItem makes decoded items comparable with what was written (times
// decode in the local zone).
func utcItem(it model.OutboxItem) model.OutboxItem {
	it.Created, it.NextAttempt, it.Done = it.Created.UTC(), it.NextAttempt.UTC(), it.Done.UTC()
	it.Alert = utcAlert(it.Alert)
	return it
}

func utcAlert(a model.Alert) model.Alert {
	a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
	return a
}

func itemIDs(items []model.OutboxItem) []uint64 {
	out := make([]uint64, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// lastTxID is the ID of the newest committed transaction.
func lastTxID(t *testing.T, db *DB) int {
	t.Helper()
	id := 0
	if err := db.view(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// serveCommits drains the writer queue like Run, committing each request
// with what is queued behind it, but without Run's retention passes (which
// commit transactions of their own), so a test can count transactions.
func serveCommits(t *testing.T, db *DB) {
	t.Helper()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case r := <-db.reqs:
				_ = db.commit(db.drain([]*request{r}))
			case <-quit:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(quit)
		<-done
	})
}

func TestAddEventWith_OneTransaction(t *testing.T) {
	clk := newClock(base.Add(time.Minute))
	db, _ := openTest(t, testOptions(clk))
	serveCommits(t, db)
	ctx := ctxT(t)

	a := checkAlert("web", model.AlertFiring, base)
	c := model.AlertChange{Alerts: []model.Alert{a}, Outbox: itemsFor(a, "hook", "am", "mail")}
	c.Outbox[2].EventID = 99 // replaced by the event's
	e := model.Event{Time: base, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown, Reason: "HTTP 503"}

	before := lastTxID(t, db)
	got, items, err := db.AddEventWith(ctx, e, c)
	if err != nil {
		t.Fatal(err)
	}
	if n := lastTxID(t, db) - before; n != 1 {
		t.Errorf("AddEventWith took %d transactions, want 1", n)
	}
	if got.ID == 0 || len(items) != 3 {
		t.Fatalf("AddEventWith = %+v, %d items", got, len(items))
	}
	for i, it := range items {
		if it.ID == 0 || (i > 0 && it.ID <= items[i-1].ID) || it.EventID != got.ID || !it.Created.Equal(base) ||
			it.Channel != c.Outbox[i].Channel || it.State != model.OutboxPending {
			t.Errorf("item %d = %+v; want a new increasing ID, EventID %d, Created %v", i, it, got.ID, base)
		}
	}
	// The caller's change is not touched, and its labels are copied.
	if c.Outbox[0].ID != 0 || c.Outbox[2].EventID != 99 {
		t.Errorf("the caller's items were changed: %+v", c.Outbox)
	}
	a.Labels["host"] = "changed later"

	evs, err := db.Events(0, 10)
	if err != nil || len(evs) != 1 || evs[0].ID != got.ID || evs[0].Reason != "HTTP 503" {
		t.Errorf("Events = %+v, %v", evs, err)
	}
	for _, want := range items {
		out, err := db.Outbox(want.Channel, 0)
		if err != nil || len(out) != 1 {
			t.Fatalf("Outbox(%s) = %+v, %v", want.Channel, out, err)
		}
		if g := utcItem(out[0]); !reflect.DeepEqual(g, want) {
			t.Errorf("Outbox(%s) =\n%+v\nwant\n%+v", want.Channel, g, want)
		}
		if out[0].Alert.Labels["host"] != "db-1" {
			t.Errorf("stored labels follow the caller's map: %v", out[0].Alert.Labels)
		}
	}
	active, err := db.ActiveAlerts()
	if err != nil || len(active) != 1 || active[0].Key != "check:web" || active[0].Labels["host"] != "db-1" {
		t.Errorf("ActiveAlerts = %+v, %v", active, err)
	}
	if n, err := db.PendingCount(); err != nil || n != 3 {
		t.Errorf("PendingCount = %d, %v; want 3", n, err)
	}

	// An empty change is a plain event.
	plain, none, err := db.AddEventWith(ctx, model.Event{Kind: model.EventReload}, model.AlertChange{})
	if err != nil || plain.ID != got.ID+1 || none != nil || !plain.Time.Equal(clk.Now()) {
		t.Errorf("AddEventWith(empty change) = %+v, %v, %v", plain, none, err)
	}
}

func TestAddAlertChange(t *testing.T) {
	clk := newClock(base)
	db, _ := openTest(t, testOptions(clk))
	serveCommits(t, db)
	ctx := ctxT(t)

	a := checkAlert("web", model.AlertFiring, base.Add(-time.Hour))
	c := model.AlertChange{Outbox: itemsFor(a, "hook", "am")}
	c.Outbox[0].Reminder = true
	c.Outbox[0].EventID = 7 // a reminder of the problem event 7 began
	c.Outbox[1].Created = base.Add(-time.Second)
	items, err := db.AddAlertChange(ctx, c)
	if err != nil || len(items) != 2 {
		t.Fatalf("AddAlertChange = %+v, %v", items, err)
	}
	if it := items[0]; it.ID == 0 || it.EventID != 7 || !it.Reminder || !it.Created.Equal(base) {
		t.Errorf("item 0 = %+v; want an ID, EventID 7 kept, Created now", it)
	}
	if it := items[1]; it.ID <= items[0].ID || !it.Created.Equal(base.Add(-time.Second)) {
		t.Errorf("item 1 = %+v; want a later ID and its own Created", it)
	}
	if evs, _ := db.Events(0, 10); len(evs) != 0 {
		t.Errorf("an alert change without an event stored events: %+v", evs)
	}
	before := lastTxID(t, db)
	if got, err := db.AddAlertChange(ctx, model.AlertChange{}); got != nil || err != nil || lastTxID(t, db) != before {
		t.Errorf("AddAlertChange(empty) = %v, %v and a commit; want nothing", got, err)
	}
}

func TestAlertChange_Invalid(t *testing.T) {
	a := checkAlert("web", model.AlertFiring, base)
	big := a
	big.Summary = strings.Repeat("x", maxTextLen)
	many := map[string]string{}
	for i := range maxLabels + 1 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	with := func(f func(c *model.AlertChange)) model.AlertChange {
		c := model.AlertChange{Alerts: []model.Alert{a}, Outbox: itemsFor(a, "hook")}
		c.Alerts[0].Labels = map[string]string{"host": "db-1"}
		f(&c)
		return c
	}
	tests := []struct {
		name   string
		change model.AlertChange
	}{
		{"alert without key", with(func(c *model.AlertChange) { c.Alerts[0].Key = "" })},
		{"alert state", with(func(c *model.AlertChange) { c.Alerts[0].State = "pending" })},
		{"alert key too long", with(func(c *model.AlertChange) { c.Alerts[0].Key = strings.Repeat("k", maxNameLen+1) })},
		{"too many labels", with(func(c *model.AlertChange) { c.Alerts[0].Labels = many })},
		{"time out of range", with(func(c *model.AlertChange) { c.Alerts[0].StartsAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"item without channel", with(func(c *model.AlertChange) { c.Outbox[0].Channel = "" })},
		{"channel too long", with(func(c *model.AlertChange) { c.Outbox[0].Channel = strings.Repeat("c", maxNameLen+1) })},
		{"item not pending", with(func(c *model.AlertChange) { c.Outbox[0].State = model.OutboxDelivered })},
		{"item created out of range", with(func(c *model.AlertChange) { c.Outbox[0].Created = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC) })},
		{"item alert too long", with(func(c *model.AlertChange) { c.Outbox[0].Alert.Reason = strings.Repeat("r", maxTextLen+1) })},
		{"change too big", model.AlertChange{Outbox: itemsFor(big, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q")}},
		{"too many records", model.AlertChange{Outbox: make([]model.OutboxItem, maxChangeRecords+1)}},
	}
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.AddAlertChange(ctx, tt.change); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddAlertChange = %v, want ErrInvalid", err)
			}
			e, items, err := db.AddEventWith(ctx, model.Event{Kind: model.EventCheck}, tt.change)
			if !errors.Is(err, ErrInvalid) || e.ID != 0 || items != nil {
				t.Errorf("AddEventWith = %+v, %v, %v; want ErrInvalid", e, items, err)
			}
		})
	}
	// Nothing of it reached the file.
	if n, err := db.PendingCount(); n != 0 || err != nil {
		t.Errorf("PendingCount = %d, %v", n, err)
	}
	if evs, _ := db.Events(0, 10); len(evs) != 0 {
		t.Errorf("events stored: %+v", evs)
	}
	if active, _ := db.ActiveAlerts(); len(active) != 0 {
		t.Errorf("alerts stored: %+v", active)
	}
}

func TestActiveAlerts_UpsertDelete(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	web, api := checkAlert("web", model.AlertFiring, base), checkAlert("api", model.AlertFiring, base)
	steps := []struct {
		name   string
		alerts []model.Alert
		want   []string // keys with their summaries
	}{
		{"two fire", []model.Alert{web, api}, []string{"check:api=api is down", "check:web=web is down"}},
		{"web again, new summary", []model.Alert{func() model.Alert { a := web; a.Summary = "web still down"; return a }()},
			[]string{"check:api=api is down", "check:web=web still down"}},
		{"api resolves", []model.Alert{func() model.Alert {
			a := api
			a.State = model.AlertResolved
			a.EndsAt = base.Add(time.Minute)
			return a
		}()},
			[]string{"check:web=web still down"}},
		{"unknown resolves", []model.Alert{checkAlert("gone", model.AlertResolved, base)}, []string{"check:web=web still down"}},
	}
	for _, st := range steps {
		if _, err := db.AddAlertChange(ctx, model.AlertChange{Alerts: st.alerts}); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		active, err := db.ActiveAlerts()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range active {
			got = append(got, a.Key+"="+a.Summary)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: ActiveAlerts = %v, want %v", st.name, got, st.want)
		}
	}
	// The stored alert is the one written, field by field.
	active, _ := db.ActiveAlerts()
	want := web
	want.Summary = "web still down"
	if len(active) != 1 || !reflect.DeepEqual(utcAlert(active[0]), want) {
		t.Errorf("ActiveAlerts = %+v, want %+v", active, want)
	}
}

func TestOutbox_OrderMarksStats(t *testing.T) {
	clk := newClock(base)
	db, _ := openTest(t, testOptions(clk))
	runWriter(t, db)
	ctx := ctxT(t)

	// Three changes, each for channels a and b: IDs interleave.
	var byCh = map[string][]model.OutboxItem{}
	for i := range 3 {
		at := base.Add(time.Duration(i) * time.Minute)
		clk.Set(at)
		a := checkAlert("c"+string(rune('0'+i)), model.AlertFiring, at)
		_, items, err := db.AddEventWith(ctx, model.Event{Time: at, Kind: model.EventCheck}, model.AlertChange{Outbox: itemsFor(a, "a", "b")})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			byCh[it.Channel] = append(byCh[it.Channel], it)
		}
	}
	a, b := byCh["a"], byCh["b"]
	if got, _ := db.Outbox("a", 0); !reflect.DeepEqual(itemIDs(got), itemIDs(a)) {
		t.Errorf("Outbox(a) = %v, want %v (oldest first)", itemIDs(got), itemIDs(a))
	}
	if got, _ := db.Outbox("a", 2); !reflect.DeepEqual(itemIDs(got), itemIDs(a[:2])) {
		t.Errorf("Outbox(a, 2) = %v, want %v", itemIDs(got), itemIDs(a[:2]))
	}
	if got, err := db.Outbox("nope", 0); got != nil || err != nil {
		t.Errorf("Outbox(nope) = %v, %v", got, err)
	}

	t1, t2 := base.Add(10*time.Minute), base.Add(20*time.Minute)
	type stat struct {
		pending            int
		delivered, failed  uint64
		lastOK, lastFailed time.Time
		lastError          string
	}
	steps := []struct {
		name       string
		now        time.Time
		channel    string
		ids        []uint64
		u          model.OutboxUpdate
		pendingA   []uint64
		statA      stat
		statB      stat
		deliveries []uint64
	}{
		{"retry a0", t1, "a", []uint64{a[0].ID}, model.OutboxUpdate{State: model.OutboxPending, Attempts: 1, NextAttempt: t1.Add(time.Minute), LastError: "HTTP 502", MessageID: "m1"},
			itemIDs(a), stat{pending: 3, lastFailed: t1, lastError: "HTTP 502"}, stat{pending: 3}, nil},
		{"deliver a0 a1", t1, "a", []uint64{a[0].ID, a[1].ID}, model.OutboxUpdate{State: model.OutboxDelivered, Attempts: 2, Done: t1, MessageID: "m1"},
			itemIDs(a[2:]), stat{pending: 1, delivered: 2, lastOK: t1, lastFailed: t1, lastError: "HTTP 502"}, stat{pending: 3}, []uint64{a[1].ID, a[0].ID}},
		{"a0 marked again", t2, "a", []uint64{a[0].ID}, model.OutboxUpdate{State: model.OutboxDelivered, Attempts: 3, Done: t2},
			itemIDs(a[2:]), stat{pending: 1, delivered: 2, lastOK: t1, lastFailed: t1, lastError: "HTTP 502"}, stat{pending: 3}, []uint64{a[1].ID, a[0].ID}},
		{"b0 given up", t2, "b", []uint64{b[0].ID}, model.OutboxUpdate{State: model.OutboxFailed, Attempts: 9, LastError: "HTTP 410 Gone"},
			itemIDs(a[2:]), stat{pending: 1, delivered: 2, lastOK: t1, lastFailed: t1, lastError: "HTTP 502"},
			stat{pending: 2, failed: 1, lastFailed: t2, lastError: "HTTP 410 Gone"}, []uint64{b[0].ID, a[1].ID, a[0].ID}},
		{"unknown id and channel", t2, "b", []uint64{9999, a[2].ID}, model.OutboxUpdate{State: model.OutboxDelivered},
			itemIDs(a[2:]), stat{pending: 1, delivered: 2, lastOK: t1, lastFailed: t1, lastError: "HTTP 502"},
			stat{pending: 2, failed: 1, lastFailed: t2, lastError: "HTTP 410 Gone"}, []uint64{b[0].ID, a[1].ID, a[0].ID}},
	}
	for _, st := range steps {
		clk.Set(st.now)
		if err := db.MarkOutbox(ctx, st.channel, st.ids, st.u); err != nil {
			t.Fatalf("%s: MarkOutbox: %v", st.name, err)
		}
		if got, _ := db.Outbox("a", 0); !reflect.DeepEqual(itemIDs(got), st.pendingA) {
			t.Errorf("%s: Outbox(a) = %v, want %v", st.name, itemIDs(got), st.pendingA)
		}
		stats, err := db.OutboxStats()
		if err != nil || len(stats) != 2 || stats[0].Channel != "a" || stats[1].Channel != "b" {
			t.Fatalf("%s: OutboxStats = %+v, %v", st.name, stats, err)
		}
		for i, want := range []stat{st.statA, st.statB} {
			s := stats[i]
			got := stat{s.Pending, s.Delivered, s.Failed, s.LastSuccess.UTC(), s.LastFailure.UTC(), s.LastError}
			want.lastOK, want.lastFailed = want.lastOK.UTC(), want.lastFailed.UTC()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: stats of %s = %+v, want %+v", st.name, s.Channel, got, want)
			}
		}
		if got, _ := db.Deliveries(0); !reflect.DeepEqual(itemIDs(got), st.deliveries) && len(got)+len(st.deliveries) > 0 {
			t.Errorf("%s: Deliveries = %v, want %v (newest first)", st.name, itemIDs(got), st.deliveries)
		}
	}

	// The retry's details, and what a finished item keeps.
	pend, _ := db.Outbox("b", 0)
	if len(pend) != 2 || pend[0].ID != b[1].ID {
		t.Fatalf("Outbox(b) = %v", itemIDs(pend))
	}
	dl, _ := db.Deliveries(10)
	if d := dl[2]; d.ID != a[0].ID || d.State != model.OutboxDelivered || d.Attempts != 2 || !d.Done.Equal(t1) ||
		d.MessageID != "m1" || d.LastError != "" || !d.NextAttempt.IsZero() || d.EventID == 0 {
		t.Errorf("delivered a0 = %+v", d)
	}
	if d := dl[0]; d.ID != b[0].ID || d.State != model.OutboxFailed || d.Attempts != 9 || !d.Done.Equal(t2) || d.LastError != "HTTP 410 Gone" {
		t.Errorf("failed b0 = %+v; want Done now (the zero Done defaults to the clock)", d)
	}
	if dl, _ := db.Deliveries(1); len(dl) != 1 || dl[0].ID != b[0].ID {
		t.Errorf("Deliveries(1) = %v", itemIDs(dl))
	}
	if n, err := db.PendingCount(); err != nil || n != 3 {
		t.Errorf("PendingCount = %d, %v; want 3", n, err)
	}
	stats, _ := db.OutboxStats()
	if !stats[0].Oldest.Equal(a[2].Created) || !stats[1].Oldest.Equal(b[1].Created) {
		t.Errorf("oldest pending = %v, %v; want %v, %v", stats[0].Oldest, stats[1].Oldest, a[2].Created, b[1].Created)
	}

	// A retry keeps the item pending with the attempt recorded.
	if err := db.MarkOutbox(ctx, "b", []uint64{b[1].ID}, model.OutboxUpdate{Attempts: 1, NextAttempt: t2.Add(time.Minute), LastError: strings.Repeat("é", 1000), MessageID: "m2"}); err != nil {
		t.Fatal(err)
	}
	pend, _ = db.Outbox("b", 1)
	if p := pend[0]; p.Attempts != 1 || !p.NextAttempt.Equal(t2.Add(time.Minute)) || p.MessageID != "m2" || len(p.LastError) > maxErrorLen ||
		!strings.HasPrefix(p.LastError, "éé") || strings.ToValidUTF8(p.LastError, "?") != p.LastError || p.State != model.OutboxPending {
		t.Errorf("retried b1 = %+v; want attempt 1, next attempt, message id, error cut to %d bytes of whole characters", p, maxErrorLen)
	}

	invalid := []struct {
		name    string
		channel string
		ids     []uint64
		u       model.OutboxUpdate
	}{
		{"no channel", "", []uint64{1}, model.OutboxUpdate{}},
		{"bad state", "a", []uint64{1}, model.OutboxUpdate{State: 7}},
		{"negative attempts", "a", []uint64{1}, model.OutboxUpdate{Attempts: -1}},
		{"too many ids", "a", make([]uint64, maxMarkIDs+1), model.OutboxUpdate{}},
		{"message id too long", "a", []uint64{1}, model.OutboxUpdate{MessageID: strings.Repeat("m", maxNameLen+1)}},
	}
	for _, tt := range invalid {
		if err := db.MarkOutbox(ctx, tt.channel, tt.ids, tt.u); !errors.Is(err, ErrInvalid) {
			t.Errorf("MarkOutbox(%s) = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestSilences_AddExpireList(t *testing.T) {
	clk := newClock(base)
	db, _ := openTest(t, testOptions(clk))
	runWriter(t, db)
	ctx := ctxT(t)

	add := func(s model.Silence) model.Silence {
		t.Helper()
		got, err := db.AddSilence(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	s1 := add(model.Silence{Checks: []string{"web*"}, End: base.Add(time.Hour), Author: "ann", Comment: "deploy"})
	clk.Set(base.Add(time.Minute))
	s2 := add(model.Silence{Groups: []string{"db"}, Rules: []string{"disk-*"}, Start: base.Add(30 * time.Minute), End: base.Add(2 * time.Hour),
		Expired: base, Author: "bob"})
	s3 := add(model.Silence{End: base.Add(3 * time.Hour)})
	if s1.ID == 0 || s2.ID <= s1.ID || s3.ID <= s2.ID || !s1.Start.Equal(base) || !s1.Created.Equal(base) ||
		!s2.Created.Equal(base.Add(time.Minute)) || !s2.Expired.IsZero() {
		t.Fatalf("AddSilence = %+v, %+v, %+v", s1, s2, s3)
	}

	clk.Set(base.Add(40 * time.Minute))
	if err := db.ExpireSilence(ctx, s2.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.ExpireSilence(ctx, s2.ID, base.Add(50*time.Minute)); err != nil {
		t.Fatalf("expiring again: %v", err)
	}
	if err := db.ExpireSilence(ctx, 9999, time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExpireSilence(unknown) = %v, want ErrNotFound", err)
	}

	ids := func(ss []model.Silence) []uint64 {
		var out []uint64
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	tests := []struct {
		since time.Time
		want  []uint64
	}{
		{time.Time{}, []uint64{s3.ID, s2.ID, s1.ID}},
		{base.Add(40 * time.Minute), []uint64{s3.ID, s2.ID, s1.ID}}, // s2 ended at 40m: not before
		{base.Add(41 * time.Minute), []uint64{s3.ID, s1.ID}},
		{base.Add(time.Hour), []uint64{s3.ID, s1.ID}}, // ends at since: not before
		{base.Add(time.Hour + time.Nanosecond), []uint64{s3.ID}},
		{base.Add(3 * time.Hour), []uint64{s3.ID}},
		{base.Add(4 * time.Hour), nil},
	}
	for _, tt := range tests {
		got, err := db.Silences(tt.since)
		if err != nil || !reflect.DeepEqual(ids(got), tt.want) {
			t.Errorf("Silences(%v) = %v, %v; want %v", tt.since, ids(got), err, tt.want)
		}
	}
	all, _ := db.Silences(time.Time{})
	got := all[1]
	if !got.Expired.Equal(base.Add(40*time.Minute)) || got.Active(base.Add(45*time.Minute)) || !got.Active(base.Add(35*time.Minute)) ||
		!reflect.DeepEqual(got.Groups, []string{"db"}) || !reflect.DeepEqual(got.Rules, []string{"disk-*"}) || got.Author != "bob" {
		t.Errorf("expired silence = %+v; want Expired at 40m (the first expiry kept)", got)
	}
	if s := all[2]; !reflect.DeepEqual(s.Checks, []string{"web*"}) || s.Comment != "deploy" || !s.End.Equal(base.Add(time.Hour)) {
		t.Errorf("silence 1 = %+v", s)
	}

	invalid := []struct {
		name string
		s    model.Silence
	}{
		{"end before start", model.Silence{Start: base, End: base.Add(-time.Second)}},
		{"no end", model.Silence{Start: base}},
		{"bad glob", model.Silence{Checks: []string{"web["}, End: base.Add(time.Hour)}},
		{"too many matchers", model.Silence{Rules: make([]string, maxMatchers+1), End: base.Add(time.Hour)}},
		{"comment too long", model.Silence{Comment: strings.Repeat("c", maxTextLen+1), End: base.Add(time.Hour)}},
	}
	for _, tt := range invalid {
		if _, err := db.AddSilence(ctx, tt.s); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddSilence(%s) = %v, want ErrInvalid", tt.name, err)
		}
	}
	if err := db.ExpireSilence(ctx, 0, time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("ExpireSilence(0) = %v, want ErrInvalid", err)
	}
}

// runStoppable starts Run and returns a function that stops it and waits.
func runStoppable(t *testing.T, db *DB) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return")
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestRetention_Alerting(t *testing.T) {
	clk := newClock(base)
	opts := testOptions(clk)
	opts.Retention.Events = time.Hour
	db, _ := openTest(t, opts)
	stop := runStoppable(t, db)
	ctx := ctxT(t)

	old, recent := base, base.Add(3*time.Hour)
	add := func(at time.Time, channels ...string) []model.OutboxItem {
		t.Helper()
		clk.Set(at)
		items, err := db.AddAlertChange(ctx, model.AlertChange{Outbox: itemsFor(checkAlert("web", model.AlertFiring, at), channels...)})
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	mark := func(at time.Time, it model.OutboxItem) {
		t.Helper()
		if err := db.MarkOutbox(ctx, it.Channel, []uint64{it.ID}, model.OutboxUpdate{State: model.OutboxDelivered, Done: at}); err != nil {
			t.Fatal(err)
		}
	}
	oldItems := add(old, "live", "live", "gone") // two for live: one stays pending
	mark(old, oldItems[0])
	mark(old, oldItems[2])
	newItems := add(recent, "live")
	mark(recent, newItems[0])
	clk.Set(old)
	sOld, err := db.AddSilence(ctx, model.Silence{End: old.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	sExpired, _ := db.AddSilence(ctx, model.Silence{End: recent.Add(time.Hour)})
	if err := db.ExpireSilence(ctx, sExpired.ID, old.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	sLive, _ := db.AddSilence(ctx, model.Silence{End: recent.Add(time.Hour)})
	if active, _ := db.Silences(time.Time{}); len(active) != 3 || sOld.ID == 0 {
		t.Fatalf("silences before retention: %+v", active)
	}
	stop() // RunRetention must not run alongside Run

	clk.Set(recent.Add(30 * time.Minute)) // cutoff: recent - 30m
	if err := db.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if dl, _ := db.Deliveries(0); !reflect.DeepEqual(itemIDs(dl), itemIDs(newItems)) {
		t.Errorf("Deliveries after retention = %v, want only the recent %v", itemIDs(dl), itemIDs(newItems))
	}
	if p, _ := db.Outbox("live", 0); len(p) != 1 || p[0].ID != oldItems[1].ID {
		t.Errorf("pending after retention = %v, want the old pending item %d kept", itemIDs(p), oldItems[1].ID)
	}
	stats, _ := db.OutboxStats()
	if len(stats) != 1 || stats[0].Channel != "live" || stats[0].Pending != 1 || stats[0].Delivered != 2 {
		t.Errorf("OutboxStats after retention = %+v; want live only (gone was idle), counters kept", stats)
	}
	if ss, _ := db.Silences(time.Time{}); len(ss) != 1 || ss[0].ID != sLive.ID {
		t.Errorf("silences after retention = %+v, want only %d", ss, sLive.ID)
	}
}

// TestOpen_V1FileAlerting opens a version 1 file (no alerting buckets):
// Open adds them and alerting works, also after a reopen.
func TestOpen_V1FileAlerting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	copyFile(t, filepath.Join("testdata", "v1.db"), path)
	rawBolt(t, path, func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bOutbox, bOutboxDone, bOutboxStats, bAlerts, bSilences} {
			if tx.Bucket(b) != nil {
				t.Fatalf("testdata/v1.db already has bucket %s", b)
			}
		}
		return nil
	})
	clk := newClock(tickTime(150))
	db, err := Open(path, testOptions(clk))
	if err != nil {
		t.Fatal(err)
	}
	stop := runStoppable(t, db)
	a := checkAlert("web", model.AlertFiring, tickTime(150))
	e, items, err := db.AddEventWith(ctxT(t), model.Event{Kind: model.EventCheck, Check: "web"},
		model.AlertChange{Alerts: []model.Alert{a}, Outbox: itemsFor(a, "hook")})
	if err != nil || e.ID != 2 || len(items) != 1 { // the v1 file has one event
		t.Fatalf("AddEventWith on a v1 file = %+v, %v, %v", e, items, err)
	}
	stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	db, err = Open(path, testOptions(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if p, err := db.Outbox("hook", 0); err != nil || len(p) != 1 || p[0].ID != items[0].ID || p[0].EventID != e.ID {
		t.Errorf("Outbox after reopen = %+v, %v", p, err)
	}
	var version uint32
	if err := db.view(func(tx *bolt.Tx) error {
		version = beUint32(tx.Bucket(bMeta).Get(kSchema))
		return nil
	}); err != nil || version != SchemaVersion {
		t.Errorf("schema version %d, %v; want %d kept", version, err, SchemaVersion)
	}
}
