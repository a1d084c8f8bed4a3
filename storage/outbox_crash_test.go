package storage

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// Child process for TestCrash_OutboxSIGKILL.
const envOutboxChildPath = "DASHD_STORAGE_OUTBOX_CHILD_PATH"

// outboxChannels are the channels every change of the child writes to.
func outboxChannels() []string { return []string{"a", "b", "c"} }

// crashAlertState is the state the child's i-th change gives its check's
// alert: five checks, each firing for five changes, then resolved for five.
func crashAlertState(i int) model.AlertState {
	if (i/5)%2 == 0 {
		return model.AlertFiring
	}
	return model.AlertResolved
}

// TestHelperOutboxChild is not a test: it is the body of the child
// processes of TestCrash_OutboxSIGKILL. It adds events with an alert change
// (three items, one alert state) as fast as it can, delivers channel a's
// oldest items now and then and retries b's, and prints what was
// acknowledged.
func TestHelperOutboxChild(t *testing.T) {
	path := os.Getenv(envOutboxChildPath)
	if path == "" {
		t.Skip("child process body; runs only when re-executed by TestCrash_OutboxSIGKILL")
	}
	opts := testOptions(nil)
	opts.Timeout = 30 * time.Second
	db, err := Open(path, opts)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	go func() { _ = db.Run(ctx) }()
	fmt.Println("ready")
	for i := 0; ; i++ {
		check := "c" + strconv.Itoa(i%5)
		a := checkAlert(check, crashAlertState(i), time.Now())
		e, items, err := db.AddEventWith(ctx, model.Event{Kind: model.EventCheck, Check: check, Reason: strconv.Itoa(i)},
			model.AlertChange{Alerts: []model.Alert{a}, Outbox: itemsFor(a, outboxChannels()...)})
		if err != nil || len(items) != 3 {
			fmt.Println("add failed:", err)
			os.Exit(1)
		}
		fmt.Printf("ack %d %d %d %d\n", e.ID, items[0].ID, items[1].ID, items[2].ID)
		switch i % 4 {
		case 3:
			p, err := db.Outbox("a", 3)
			if err != nil {
				fmt.Println("outbox failed:", err)
				os.Exit(1)
			}
			if err := db.MarkOutbox(ctx, "a", itemIDs(p), model.OutboxUpdate{State: model.OutboxDelivered, Attempts: 1, MessageID: "m" + strconv.Itoa(i)}); err != nil {
				fmt.Println("mark failed:", err)
				os.Exit(1)
			}
			fmt.Printf("delivered %s\n", joinIDs(itemIDs(p)))
		case 1:
			p, _ := db.Outbox("b", 1)
			if len(p) == 1 {
				_ = db.MarkOutbox(ctx, "b", itemIDs(p), model.OutboxUpdate{Attempts: p[0].Attempts + 1, LastError: "HTTP 502",
					NextAttempt: time.Now().Add(time.Minute)})
			}
		}
	}
}

func joinIDs(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(s, ",")
}

// startOutboxChild re-executes the test binary as TestHelperOutboxChild on
// path and waits for its "ready" line.
func startOutboxChild(t *testing.T, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOutboxChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envOutboxChildPath+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { c.kill(t) })
	if c.ready = readLine(t, c.out, 60*time.Second); c.ready != "ready" {
		t.Fatalf("child said %q, want ready", c.ready)
	}
	return c
}

// storedItem is where an item was found in the file.
type storedItem struct {
	channel string
	eventID uint64
	state   model.OutboxState
	done    bool // in outbox_done
}

// scanOutbox reads every event ID and every item of the file, failing on an
// item stored twice or one that does not decode.
func scanOutbox(t *testing.T, db *DB) (events map[uint64]model.Event, items map[uint64]storedItem) {
	t.Helper()
	events, items = map[uint64]model.Event{}, map[uint64]storedItem{}
	add := func(id uint64, v []byte, done bool) error {
		it, err := decodeItem(id, v)
		if err != nil {
			return fmt.Errorf("item %d: %w", id, err)
		}
		if prev, dup := items[id]; dup {
			return fmt.Errorf("item %d stored twice: %+v and %+v", id, prev, it)
		}
		items[id] = storedItem{channel: it.Channel, eventID: it.EventID, state: it.State, done: done}
		return nil
	}
	err := db.view(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bEvents).ForEach(func(k, v []byte) error {
			e, err := decodeEvent(beUint64(k), v)
			events[e.ID] = e
			return err
		}); err != nil {
			return err
		}
		ob := tx.Bucket(bOutbox)
		if err := ob.ForEach(func(ch, _ []byte) error {
			return ob.Bucket(ch).ForEach(func(k, v []byte) error { return add(beUint64(k), v, false) })
		}); err != nil {
			return err
		}
		return tx.Bucket(bOutboxDone).ForEach(func(k, v []byte) error { return add(beUint64(k[8:]), v, true) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return events, items
}

func TestCrash_OutboxSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary 20 times")
	}
	path := t.TempDir() + "/dashd.db"
	rng := rand.New(rand.NewPCG(3, 4))
	acked := map[uint64][3]uint64{} // event -> its items, as acknowledged
	delivered := map[uint64]bool{}
	for round := range 20 {
		c := startOutboxChild(t, path)
		want := 1 + rng.IntN(30)
		for n := 0; n < want; {
			line := readLine(t, c.out, 60*time.Second)
			var e, a, b, cc uint64
			switch {
			case strings.HasPrefix(line, "ack "):
				if _, err := fmt.Sscanf(line, "ack %d %d %d %d", &e, &a, &b, &cc); err != nil {
					t.Fatalf("round %d: child said %q", round, line)
				}
				acked[e] = [3]uint64{a, b, cc}
				n++
			case strings.HasPrefix(line, "delivered "):
				for _, f := range strings.Split(strings.TrimPrefix(line, "delivered "), ",") {
					if id, err := strconv.ParseUint(f, 10, 64); err == nil {
						delivered[id] = true
					}
				}
			default:
				t.Fatalf("round %d: child said %q", round, line)
			}
		}
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
		c.kill(t)

		checkFile(t, path)
		db, err := Open(path, testOptions(nil))
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		verifyOutboxAfterCrash(t, db, round, acked, delivered)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("20 SIGKILLs, %d acknowledged events with 3 items each, %d items acknowledged delivered", len(acked), len(delivered))
}

// verifyOutboxAfterCrash checks, after a SIGKILL: every acknowledged event
// and item is there exactly once and linked; every stored event (acknowledged
// or not) has exactly its three items, one per channel; items acknowledged
// delivered are done; each channel's record agrees with its items; the
// active alerts are what each check's newest event left.
func verifyOutboxAfterCrash(t *testing.T, db *DB, round int, acked map[uint64][3]uint64, delivered map[uint64]bool) {
	t.Helper()
	events, items := scanOutbox(t, db)
	for e, ids := range acked {
		if _, ok := events[e]; !ok {
			t.Errorf("round %d: acknowledged event %d missing", round, e)
		}
		for k, id := range ids {
			it, ok := items[id]
			if !ok || it.eventID != e || it.channel != outboxChannels()[k] {
				t.Errorf("round %d: acknowledged item %d of event %d = %+v (found %v)", round, id, e, it, ok)
			}
		}
	}
	perEvent := map[uint64]map[string]int{}
	type counts struct{ pending, delivered int }
	perChannel := map[string]*counts{}
	for _, ch := range outboxChannels() {
		perChannel[ch] = &counts{}
	}
	for id, it := range items {
		if _, ok := events[it.eventID]; !ok {
			t.Errorf("round %d: item %d belongs to event %d, which is not stored", round, id, it.eventID)
		}
		if perEvent[it.eventID] == nil {
			perEvent[it.eventID] = map[string]int{}
		}
		perEvent[it.eventID][it.channel]++
		if it.done != (it.state != model.OutboxPending) || (it.done && it.state != model.OutboxDelivered) {
			t.Errorf("round %d: item %d in the wrong place: %+v", round, id, it)
		}
		if it.done {
			perChannel[it.channel].delivered++
		} else {
			perChannel[it.channel].pending++
		}
		if delivered[id] && !it.done {
			t.Errorf("round %d: item %d was acknowledged delivered but is pending", round, id)
		}
	}
	for e := range events {
		if c := perEvent[e]; len(c) != 3 || c["a"] != 1 || c["b"] != 1 || c["c"] != 1 {
			t.Errorf("round %d: event %d has items %v; want exactly one per channel", round, e, c)
		}
	}
	stats, err := db.OutboxStats()
	if err != nil || len(stats) != 3 {
		t.Fatalf("round %d: OutboxStats = %+v, %v", round, stats, err)
	}
	for _, s := range stats {
		if c := perChannel[s.Channel]; s.Pending != c.pending || s.Delivered != uint64(c.delivered) || s.Failed != 0 {
			t.Errorf("round %d: stats of %s = %+v; the items say %d pending, %d delivered", round, s.Channel, s, c.pending, c.delivered)
		}
	}
	// Each check's newest event decides whether its alert fires.
	newest := map[string]model.Event{}
	for _, e := range events {
		if e.ID > newest[e.Check].ID {
			newest[e.Check] = e
		}
	}
	want := map[string]bool{}
	for check, e := range newest {
		i, err := strconv.Atoi(e.Reason)
		if err != nil {
			t.Fatalf("round %d: event %+v", round, e)
		}
		if crashAlertState(i) == model.AlertFiring {
			want["check:"+check] = true
		}
	}
	active, err := db.ActiveAlerts()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range active {
		got[a.Key] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("round %d: active alerts %v, want %v (from each check's newest event)", round, got, want)
	}
}
