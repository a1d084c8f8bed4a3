package storage

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"golang.org/x/sys/unix"
)

// fillUntilHeld adds 64 KiB events on a full disk until one is held: it
// cannot fit in the file's free pages, and from then on every commit
// retries it first, so every commit fails until there is room again.
func fillUntilHeld(t *testing.T, db *DB) {
	t.Helper()
	pad := strings.Repeat("x", maxTextLen-100)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := db.AddEvent(ctx, model.Event{Kind: model.EventReload, Reason: "big-" + strconv.Itoa(i) + " " + pad})
		cancel()
		if errors.Is(err, ErrHeld) {
			return
		}
		if err != nil || i == 200 {
			t.Fatalf("AddEvent %d on a full disk = %v; want it stored or held", i, err)
		}
	}
}

// alertOutage drives alerting writes through a disk outage with the real
// writer: an event with its alert change and an alert change of its own
// are held while the disk is full and stored together, in order, when
// there is room again; marks and silences are refused meanwhile. It leaves
// the database closed; checkAlertOutageFile checks what it stored.
func alertOutage(t *testing.T, path string, fill, free func(t *testing.T), failed func(error) bool) {
	t.Helper()
	var logs logBuf
	opts := testOptions(newClock(base))
	opts.Logger = logs.logger()
	opts.InitialMmapSize = 32 << 10
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = db.Close()
		}
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	stop := runStoppable(t, db)
	ctx := ctxT(t)

	web, x := checkAlert("web", model.AlertFiring, base), checkAlert("x", model.AlertFiring, base)
	e0, items0, err := db.AddEventWith(ctx, model.Event{Kind: model.EventCheck, Check: "web", Reason: "e0"},
		model.AlertChange{Alerts: []model.Alert{web}, Outbox: itemsFor(web, "a", "b")})
	if err != nil {
		t.Fatal(err)
	}

	fill(t)
	fillUntilHeld(t, db)
	resolved := web
	resolved.State = model.AlertResolved
	e1, items1, err := db.AddEventWith(ctx, model.Event{Kind: model.EventCheck, Check: "x", Reason: "e1"},
		model.AlertChange{Alerts: []model.Alert{x, resolved}, Outbox: itemsFor(x, "a", "b")})
	if !errors.Is(err, ErrHeld) || errors.Is(err, ErrWriteFailed) || !failed(err) {
		t.Fatalf("AddEventWith on a full disk = %v; want ErrHeld with the cause", err)
	}
	if e1.ID != 0 || len(items1) != 2 || items1[0].ID != 0 || items1[1].ID != 0 || items1[0].Channel != "a" || items1[1].Alert.Key != "check:x" {
		t.Errorf("held AddEventWith returned %+v, %+v; want the event and items without IDs", e1, items1)
	}
	// Neither the event nor its items nor its alert states are visible.
	if evs, _ := db.Events(0, 1); len(evs) == 1 && evs[0].Reason == "e1" {
		t.Errorf("the held event is visible during the outage")
	}
	if p, _ := db.Outbox("a", 0); len(p) != 1 || p[0].ID != items0[0].ID {
		t.Errorf("Outbox(a) during the outage = %v; want only e0's item", itemIDs(p))
	}
	if act, _ := db.ActiveAlerts(); len(act) != 1 || act[0].Key != "check:web" {
		t.Errorf("ActiveAlerts during the outage = %+v; want web only", act)
	}
	if n, _ := db.PendingCount(); n != 2 {
		t.Errorf("PendingCount during the outage = %d, want 2", n)
	}

	reminder := itemsFor(web, "a")
	reminder[0].Reminder = true
	if items2, err := db.AddAlertChange(ctx, model.AlertChange{Outbox: reminder}); !errors.Is(err, ErrHeld) || len(items2) != 1 || items2[0].ID != 0 {
		t.Errorf("AddAlertChange on a full disk = %+v, %v; want ErrHeld", items2, err)
	}
	if err := db.MarkOutbox(ctx, "a", []uint64{items0[0].ID}, model.OutboxUpdate{State: model.OutboxDelivered}); !errors.Is(err, ErrWriteFailed) || errors.Is(err, ErrHeld) || !failed(err) {
		t.Errorf("MarkOutbox on a full disk = %v; want ErrWriteFailed with the cause (marks are not held)", err)
	}
	if _, err := db.AddSilence(ctx, model.Silence{End: base.Add(time.Hour)}); !errors.Is(err, ErrWriteFailed) {
		t.Errorf("AddSilence on a full disk = %v; want ErrWriteFailed", err)
	}
	if h := db.WriteHealth(); h.Held != 3 || h.Dropped.Alerts != 2 || h.Dropped.Events != 0 {
		t.Errorf("WriteHealth during the outage = %+v; want 3 held (big event, e1 with its change, the reminder), 2 alerting records dropped", h)
	}

	free(t)
	if err := db.Flush(ctx); err != nil {
		t.Fatalf("Flush after space came back: %v", err)
	}
	if h := db.WriteHealth(); h.Held != 0 {
		t.Errorf("WriteHealth after recovery = %+v; want nothing held", h)
	}
	checkAlertOutageFile(t, db, e0.ID)
	stop()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
}

// checkAlertOutageFile checks what alertOutage stored: e1 right after the
// big event held before it, its items and the reminder after e0's in
// their channels, linked to their events, and the alert states of e1.
func checkAlertOutageFile(t *testing.T, db *DB, e0 uint64) {
	t.Helper()
	evs, err := db.Events(0, 2)
	if err != nil || len(evs) != 2 || evs[0].Reason != "e1" || !strings.HasPrefix(evs[1].Reason, "big-") || evs[1].ID != evs[0].ID-1 {
		t.Fatalf("newest events = %+v, %v; want e1 right after the big event held before it", evs, err)
	}
	e1 := evs[0].ID
	want := map[string][]uint64{"a": {e0, e1, 0}, "b": {e0, e1}}
	for ch, events := range want {
		p, err := db.Outbox(ch, 0)
		if err != nil || len(p) != len(events) {
			t.Fatalf("Outbox(%s) = %+v, %v; want %d items", ch, p, err, len(events))
		}
		for i, it := range p {
			if it.EventID != events[i] || (i > 0 && it.ID <= p[i-1].ID) || it.Reminder != (events[i] == 0) {
				t.Errorf("Outbox(%s)[%d] = %+v; want EventID %d, in order", ch, i, it, events[i])
			}
		}
	}
	if act, _ := db.ActiveAlerts(); len(act) != 1 || act[0].Key != "check:x" {
		t.Errorf("ActiveAlerts = %+v; want x only (e1 resolved web)", act)
	}
	stats, err := db.OutboxStats()
	if err != nil || len(stats) != 2 || stats[0].Pending != 3 || stats[1].Pending != 2 || stats[0].Delivered != 0 {
		t.Errorf("OutboxStats = %+v, %v; want a: 3 pending, b: 2, nothing delivered", stats, err)
	}
}

func TestAlertOutage_Tmpfs(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	path := filepath.Join(dir, "dashd.db")
	var filler string
	alertOutage(t, path,
		func(t *testing.T) { filler = fillFS(t, dir) },
		func(t *testing.T) {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		},
		func(err error) bool { return errors.Is(err, syscall.ENOSPC) })
	if t.Failed() {
		return
	}
	checkFile(t, path)
	db, err := Open(path, testOptions(newClock(base)))
	if err != nil {
		t.Fatalf("reopen after the outage: %v", err)
	}
	defer db.Close()
	evs, _ := db.Events(0, 1000)
	checkAlertOutageFile(t, db, evs[len(evs)-1].ID)
}

// Child process for TestAlertOutage_FileSizeLimit.
const envAlertFsizeDir = "DASHD_STORAGE_ALERT_FSIZE_DIR"

// TestHelperAlertOutageChild is not a test: it is the body of the child
// process of TestAlertOutage_FileSizeLimit, which lowers its own
// RLIMIT_FSIZE (it cannot affect any other process).
func TestHelperAlertOutageChild(t *testing.T) {
	dir := os.Getenv(envAlertFsizeDir)
	if dir == "" {
		t.Skip("child process body; runs only when re-executed by TestAlertOutage_FileSizeLimit")
	}
	path := filepath.Join(dir, "dashd.db")
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	alertOutage(t, path,
		func(t *testing.T) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: uint64(fi.Size()), Max: old.Max}); err != nil {
				t.Fatal(err)
			}
		},
		func(t *testing.T) {
			if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
		},
		func(err error) bool { return strings.Contains(err.Error(), "file too large") })
}

// TestAlertOutage_FileSizeLimit is the alerting outage without root: the
// file cannot grow (RLIMIT_FSIZE in a child process).
func TestAlertOutage_FileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAlertOutageChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envAlertFsizeDir+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperAlertOutageChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "dashd.db")
	checkFile(t, path)
	db, err := Open(path, testOptions(newClock(base)))
	if err != nil {
		t.Fatalf("reopen after the outage: %v", err)
	}
	defer db.Close()
	evs, _ := db.Events(0, 1000)
	checkAlertOutageFile(t, db, evs[len(evs)-1].ID)
}

// TestAlertOutage_CloseWhileFull: an event and its alert change whose
// commits all fail are lost together at Close, never one without the
// other.
func TestAlertOutage_CloseWhileFull(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	path := filepath.Join(dir, "dashd.db")
	var logs logBuf
	opts := testOptions(newClock(base))
	opts.Logger = logs.logger()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	stop := runStoppable(t, db)
	ctx := ctxT(t)
	if _, err := db.AddEvent(ctx, model.Event{Kind: model.EventStart}); err != nil {
		t.Fatal(err)
	}
	filler := fillFS(t, dir)
	x := checkAlert("x", model.AlertFiring, base)
	var e model.Event
	for i := 0; ; i++ {
		// A large change: it needs new pages, so it is held itself.
		c := model.AlertChange{Alerts: []model.Alert{x}, Outbox: itemsFor(x, "a", "b")}
		c.Outbox[0].Alert.Reason = strings.Repeat("r", maxTextLen)
		c.Outbox[1].Alert.Reason = strings.Repeat("r", maxTextLen)
		e, _, err = db.AddEventWith(ctx, model.Event{Kind: model.EventCheck, Reason: "e-" + strconv.Itoa(i)}, c)
		if errors.Is(err, ErrHeld) {
			break
		}
		if err != nil || i == 100 {
			t.Fatalf("AddEventWith %d on a full disk = %v; want it stored or held", i, err)
		}
	}
	stop()
	if err := db.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close on a full disk with a held alert change = %v, want ENOSPC", err)
	}
	if h := db.WriteHealth(); h.Dropped.Alerts != 1 || h.Dropped.Events != 0 || h.Held != 0 {
		t.Errorf("WriteHealth after Close = %+v; want the held change counted as one lost alerting record", h)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	db, err = Open(path, testOptions(newClock(base)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, _ := db.Events(0, 1000)
	stored := map[uint64]bool{}
	for _, ev := range evs {
		stored[ev.ID] = true
		if ev.Reason == e.Reason {
			t.Errorf("the lost event %q is in the file", e.Reason)
		}
	}
	for _, ch := range []string{"a", "b"} {
		p, _ := db.Outbox(ch, 0)
		if len(p) != len(evs)-1 { // one per stored change; the first event had none
			t.Errorf("Outbox(%s) has %d items for %d stored changes", ch, len(p), len(evs)-1)
		}
		for _, it := range p {
			if !stored[it.EventID] {
				t.Errorf("Outbox(%s) item %d belongs to event %d, which is not stored", ch, it.ID, it.EventID)
			}
		}
	}
}
