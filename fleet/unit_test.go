package fleet

import (
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

func TestSampleWire_RoundTrip(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123)
	tests := []struct {
		name string
		s    model.Sample
	}{
		{"empty", model.Sample{Time: at}},
		{"float32 values and shared prefixes", model.Sample{Time: at, Points: []model.Point{
			{Series: "disk.used_pct{mount=/}", Value: 42.5}, {Series: "disk.used_pct{mount=/boot}", Value: 7},
			{Series: "cpu.total", Value: 0}}}},
		{"wide, negative, NaN and Inf", model.Sample{Time: at, Points: []model.Point{
			{Series: "a", Value: 0.1}, {Series: "b", Value: -1e300}, {Series: "c", Value: math.Inf(1)}, {Series: "d", Value: math.NaN()}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSample(EncodeSample(tt.s))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(tt.s.Time) || len(got.Points) != len(tt.s.Points) {
				t.Fatalf("got %+v, want %+v", got, tt.s)
			}
			for i, p := range tt.s.Points {
				g := got.Points[i]
				if g.Series != p.Series || (g.Value != p.Value && !(math.IsNaN(g.Value) && math.IsNaN(p.Value))) {
					t.Errorf("point %d = %+v, want %+v", i, g, p)
				}
			}
		})
	}
}

func TestSampleWire_RefusesHostile(t *testing.T) {
	good := EncodeSample(model.Sample{Time: time.Now(), Points: []model.Point{{Series: "cpu.total", Value: 1}, {Series: "cpu.user", Value: 2}}})
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-2]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"huge count", []byte{1, 2, 0xff, 0xff, 0xff, 0x7f}},
		{"prefix longer than previous name", []byte{1, 2, 1, 5, 2, 'a', 0, 0, 0, 0}},
		{"name longer than the data", []byte{1, 2, 1, 0, 200, 'a'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeSample(tt.data); !errors.Is(err, ErrBadMessage) {
				t.Errorf("err = %v, want ErrBadMessage", err)
			}
		})
	}
}

func TestParseSubject(t *testing.T) {
	tests := []struct {
		subject string
		host    string
		kind    Kind
		ok      bool
	}{
		{"dashd.web-1.sample", "web-1", KindSample, true},
		{"dashd.db_2.hello", "db_2", KindHello, true},
		{"dashd.web-1.other", "", "", false},
		{"dashd.Web.sample", "", "", false},
		{"dashd.web.1.sample", "", "", false},
		{"other.web-1.sample", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			h, k, err := ParseSubject(tt.subject)
			if (err == nil) != tt.ok || h != tt.host || k != tt.kind {
				t.Errorf("= %q %q %v, want %q %q ok=%v", h, k, err, tt.host, tt.kind, tt.ok)
			}
		})
	}
}

// TestSpool_BoundedOldestDropped: past its budget the spool deletes the
// oldest messages and counts them; order and counts survive a reopen.
func TestSpool_BoundedOldestDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	sp, err := OpenSpool(path, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for i := range 100 {
		msgs = append(msgs, Message{Subject: "dashd.web-1.sample", ID: itoa(i), Data: make([]byte, 200)})
	}
	for i := 0; i < 100; i += 10 {
		if err := sp.Append(msgs[i : i+10]); err != nil {
			t.Fatal(err)
		}
	}
	if sp.Bytes() > 10_000 || sp.Dropped() == 0 || sp.Len()+int(sp.Dropped()) != 100 {
		t.Fatalf("len %d bytes %d dropped %d: want within budget, the rest dropped", sp.Len(), sp.Bytes(), sp.Dropped())
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	sp, err = OpenSpool(path, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	got, err := sp.Peek(1000)
	if err != nil {
		t.Fatal(err)
	}
	first := int(sp.Dropped())
	if len(got) != sp.Len() || got[0].ID != itoa(first) || got[len(got)-1].ID != "99" {
		t.Fatalf("after reopen: %d messages from %s to %s, want the newest %d ending at 99", len(got), got[0].ID, got[len(got)-1].ID, 100-first)
	}
	if err := sp.Remove(got[4].Seq); err != nil {
		t.Fatal(err)
	}
	rest, _ := sp.Peek(1)
	if sp.Len() != len(got)-5 || rest[0].ID != got[5].ID {
		t.Errorf("after Remove: len %d first %s, want %d and %s", sp.Len(), rest[0].ID, len(got)-5, got[5].ID)
	}
}

// TestRegistry_UnreachableAndBack: a silent host becomes unreachable
// after its intervals with a host event (stored, fanned out) and comes
// back with another when it is heard from.
func TestRegistry_UnreachableAndBack(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "hub.db"))
	rec := newRecorder(t, filepath.Join(dir, "rec.db"))
	sub := rec.Subscribe("test", 16)
	r, err := NewRegistry(RegistryOptions{Store: store, Events: rec, Intervals: 2, MinInterval: 100 * time.Millisecond, Every: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The host exists in storage (as after ingesting its hello).
	if err := store.IngestHosts(storage.HostBatch{Hellos: []storage.HostInfo{{Name: "web-1", Interval: 100 * time.Millisecond}},
		Seen: map[string]time.Time{"web-1": time.Now()}}); err != nil {
		t.Fatal(err)
	}
	r.Hello(Hello{Host: "web-1", IntervalMs: 100})
	r.Seen("web-1", time.Now())
	runPart(t, r.Run)
	next := func(want model.State) model.Event {
		t.Helper()
		select {
		case m := <-sub.C():
			if m.Kind != flow.KindEvent || m.Event.Kind != model.EventHost || m.Event.Check != "web-1" || m.Event.To != want || m.Event.ID == 0 {
				t.Fatalf("event = %+v, want a host event of web-1 to %s, stored", m.Event, want)
			}
			return m.Event
		case <-time.After(10 * time.Second):
			t.Fatalf("no event to %s", want)
		}
		return model.Event{}
	}
	next(model.StateDown)
	hosts, _ := store.Hosts()
	if len(hosts) != 1 || hosts[0].UnreachableSince.IsZero() {
		t.Errorf("stored hosts = %+v, want web-1 unreachable", hosts)
	}
	r.Seen("web-1", time.Now())
	next(model.StateUp)
	if got := r.Hosts(); got[0].UnreachableSince != (time.Time{}) {
		t.Errorf("registry = %+v, want reachable", got)
	}
}
