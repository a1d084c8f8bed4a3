package storage

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func TestHealthTracker_Streaks(t *testing.T) {
	errFull := errors.New("write dashd.db: no space left on device")
	samplesLost := DropCounts{Samples: 1, Results: 1}
	type step struct {
		at      time.Duration // since base
		fail    bool          // one failed transaction, with samplesLost unless chatOnly
		chat    bool          // the failure lost a chat message only
		partial bool          // a retry without the samples was committed
		sample  bool          // a sample was stored
		wantOK  bool
	}
	tests := []struct {
		name                   string
		steps                  []step
		failing, still, again  int // log lines
		failedCommits, dropped uint64
	}{
		{
			name: "a streak: its start, one reminder a minute, its end",
			steps: func() []step {
				var s []step
				for i := 0; i <= 150; i++ {
					s = append(s, step{at: time.Duration(i) * time.Second, fail: true})
				}
				return append(s, step{at: 151 * time.Second, sample: true, wantOK: true})
			}(),
			failing: 1, still: 2, again: 1, failedCommits: 151, dropped: 302,
		},
		{
			name: "small commits during the streak do not end it, a stored sample does",
			steps: []step{
				{at: 0, fail: true},
				{at: time.Second, partial: true, fail: true},
				{at: 2 * time.Second}, // a chat message alone fits
				{at: 3 * time.Second, sample: true, wantOK: true},
			},
			failing: 1, again: 1, failedCommits: 2, dropped: 4,
		},
		{
			name: "no sample lost: any commit ends the streak",
			steps: []step{
				{at: 0, fail: true, chat: true},
				{at: time.Second, wantOK: true},
			},
			failing: 1, again: 1, failedCommits: 1, dropped: 1,
		},
		{
			name: "a disk hovering at full is logged once a minute at most",
			steps: []step{
				{at: 0, fail: true},
				{at: 1 * time.Second, sample: true, wantOK: true}, // logged: its start was
				{at: 2 * time.Second, fail: true},                 // quiet: a line 1 s ago
				{at: 3 * time.Second, sample: true, wantOK: true}, // quiet: its start was
				{at: 4 * time.Second, fail: true},
				{at: 62 * time.Second, fail: true}, // a reminder for the quiet streak
				{at: 63 * time.Second, sample: true, wantOK: true},
				{at: 130 * time.Second, fail: true}, // a minute after the last line: logged
			},
			failing: 2, still: 1, again: 2, failedCommits: 5, dropped: 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuf
			log := logs.logger()
			tr := newHealthTracker()
			if h := tr.snapshot(); !h.OK {
				t.Fatalf("fresh tracker = %+v, want OK", h)
			}
			for i, s := range tt.steps {
				o := commitOutcome{at: base.Add(s.at), committed: !s.fail || s.partial, samples: s.sample}
				if s.fail {
					o.err, o.failedTx, o.dropped = errFull, 1, samplesLost
					if s.chat {
						o.dropped = DropCounts{Chat: 1}
					}
				}
				tr.note(log, o)
				h := tr.snapshot()
				if h.OK != s.wantOK {
					t.Fatalf("step %d (%+v): OK = %v, want %v", i, s, h.OK, s.wantOK)
				}
				if !h.OK && (h.FailingSince.IsZero() || h.FailingSince.After(o.at)) {
					t.Errorf("step %d: FailingSince = %v", i, h.FailingSince)
				}
				if h.OK && !h.FailingSince.IsZero() {
					t.Errorf("step %d: OK with FailingSince %v", i, h.FailingSince)
				}
				if o.committed && !h.LastCommit.Equal(o.at) {
					t.Errorf("step %d: LastCommit = %v, want %v", i, h.LastCommit, o.at)
				}
			}
			h := tr.snapshot()
			if h.FailedCommits != tt.failedCommits || h.Dropped.Total() != tt.dropped || h.LastError != errFull.Error() {
				t.Errorf("final %+v; want %d failed commits, %d dropped, the last error kept", h, tt.failedCommits, tt.dropped)
			}
			for _, c := range []struct {
				line string
				want int
			}{{logFailing, tt.failing}, {logStill, tt.still}, {logAgain, tt.again}} {
				if n := logs.count(c.line); n != c.want {
					t.Errorf("%d %q lines, want %d; log:\n%s", n, c.line, c.want, logs.String())
				}
			}
		})
	}
}

func TestWriteHealth_String(t *testing.T) {
	tests := []struct {
		h    WriteHealth
		want []string
	}{
		{WriteHealth{OK: true, LastError: "old"}, []string{"storage writes OK"}},
		{WriteHealth{FailingSince: base, FailedCommits: 3, LastError: "no space left on device", Dropped: DropCounts{Samples: 2, Chat: 1}, Held: 4},
			[]string{"failing since 2026-01-05T00:00:00Z", "3 failed commits", "no space left on device", "3 records dropped", "4 held"}},
	}
	for _, tt := range tests {
		s := tt.h.String()
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("%+v.String() = %q, missing %q", tt.h, s, w)
			}
		}
	}
}

func TestDropCounts_All(t *testing.T) {
	d := DropCounts{Samples: 1, Results: 2, Events: 3, Notifications: 4, Chat: 5, ReadMarks: 6, Alerts: 7}
	var got []string
	for k, v := range d.All() {
		got = append(got, k+"="+string(rune('0'+v)))
	}
	if s := strings.Join(got, " "); s != "sample=1 result=2 event=3 notification=4 chat=5 read_mark=6 alert=7" {
		t.Errorf("All = %s", s)
	}
	if d.Total() != 28 {
		t.Errorf("Total = %d", d.Total())
	}
	var n int
	for range d.All() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("All ignored a stop")
	}
}

func TestHeldQueue_Bounds(t *testing.T) {
	tests := []struct {
		name   string
		reason int // bytes of each event's reason
		want   int // events held before the first refusal
	}{
		{"small events: the count bound", 10, maxHeldRecords},
		{"large events: the byte bound", maxTextLen, maxHeldBytes / (maxTextLen + 64 + 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q heldQueue
			n := 0
			for q.hold(&request{kind: reqEvent, event: eventOf(tt.reason)}) {
				n++
				if n > 10*maxHeldRecords {
					t.Fatal("no bound")
				}
			}
			if n != tt.want || len(q.reqs) != n || q.bytes > maxHeldBytes {
				t.Errorf("held %d (%d bytes), want %d", n, q.bytes, tt.want)
			}
			q.clear()
			if len(q.reqs) != 0 || q.bytes != 0 || !q.hold(&request{kind: reqEvent}) {
				t.Errorf("after clear: %d held, %d bytes", len(q.reqs), q.bytes)
			}
		})
	}
}

func eventOf(reasonLen int) model.Event {
	return model.Event{Kind: model.EventCheck, Reason: strings.Repeat("r", reasonLen)}
}

func TestWriteHealth_CountsQueueFull(t *testing.T) {
	opts := testOptions(newClock(base))
	opts.QueueSize = 2
	opts.EnqueueTimeout = time.Millisecond
	db, _ := openTest(t, opts) // no Run: nothing drains the queue
	for i := range 3 {
		err := db.WriteSample(model.Sample{Time: base.Add(time.Duration(i) * time.Second)})
		if (i < 2) != (err == nil) {
			t.Fatalf("WriteSample %d = %v", i, err)
		}
	}
	if err := db.WriteResult(model.Result{Check: "web", Time: base, State: model.StateUp}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("WriteResult on a full queue = %v", err)
	}
	if h := db.WriteHealth(); h.Dropped != (DropCounts{Samples: 1, Results: 1}) || !h.OK {
		t.Errorf("WriteHealth = %+v; want 1 sample and 1 result dropped, commits OK", h)
	}
}
