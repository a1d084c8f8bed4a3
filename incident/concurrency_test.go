package incident

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
)

// TestManager_Concurrent: people acting on an incident from many
// goroutines while checks keep changing: every action is stored once,
// the timeline is numbered without a gap, and nothing races (-race).
func TestManager_Concurrent(t *testing.T) {
	clk := realClock()
	e := newEnv(t, clk, nil, nil)
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused") // stays down: the incident stays open
	e.settled()
	const people, each = 8, 20
	var wg sync.WaitGroup
	for p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := ctxT(t)
			user := fmt.Sprint("user", p)
			for i := range each {
				var err error
				switch i % 3 {
				case 0:
					err = e.m.Ack(ctx, 1, user, "127.0.0.1")
				case 1:
					err = e.m.Note(ctx, 1, user, "127.0.0.1", fmt.Sprint("note ", i), i%2 == 0)
				default:
					err = e.m.Chat(ctx, 1, user, "127.0.0.1", fmt.Sprint("chat ", i))
				}
				if err != nil {
					t.Errorf("%s action %d: %v", user, i, err)
					return
				}
				_ = e.m.Open()
				_, _ = e.m.AckedBy("check:web")
			}
		}()
	}
	for i := range 40 {
		name := fmt.Sprint("c", (i/2)%5) // down, then up
		if i%2 == 0 {
			e.check(name, model.StateUp, model.StateDown, "refused")
		} else {
			e.check(name, model.StateDown, model.StateUp, "")
		}
	}
	wg.Wait()
	e.settled()
	es := e.entries(1)
	byKind := map[model.EntryKind]int{}
	for i, en := range es {
		if en.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, en.Seq)
		}
		byKind[en.Kind]++
	}
	if got := byKind[model.EntryAck] + byKind[model.EntryNote] + byKind[model.EntryChat]; got != people*each {
		t.Errorf("%d people's entries stored, want %d (%v)", got, people*each, byKind)
	}
	if byKind[model.EntryState] != 41 {
		t.Errorf("%d state entries, want 41 (web and the 40 changes)", byKind[model.EntryState])
	}
	if inc := e.incident(1); inc.Entries != uint64(len(es)) || !inc.IsOpen() {
		t.Errorf("incident %+v with %d entries", inc, len(es))
	}
	if n := len(e.storedEvents(model.EventAck)); n != people*((each+2)/3) {
		t.Errorf("%d ack events, want %d", n, people*((each+2)/3))
	}
}

// gatedView holds the Manager's loop in its first push until the gate
// opens: the loop is busy, so the flow drops what does not fit its
// subscription.
type gatedView struct {
	textView
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (v *gatedView) Entry(ctx context.Context, inc model.Incident, e model.IncidentEntry) []hub.Event {
	v.once.Do(func() {
		close(v.entered)
		<-v.gate
	})
	return v.textView.Entry(ctx, inc, e)
}

// TestManager_ReconcileAfterDrops: when the subscription dropped
// messages (a check's recovery among them), the Manager compares the
// failing checks with the checks' live state, from a real runner running
// a real tcp check, and resolves what recovered.
func TestManager_ReconcileAfterDrops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	clk := realClock()
	cfg := loadConfig(t, "reconcile.yaml", map[string]string{"WEB_ADDR": ln.Addr().String()})
	runner := collectors.NewRunner(collectors.RunnerOptions{MaxStartDelay: time.Millisecond})
	if err := runner.Apply(cfg.Checks); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, "web up", func() bool { st, _ := runner.Status("web"); return st.State == model.StateUp })

	v := &gatedView{gate: make(chan struct{}), entered: make(chan struct{})}
	e := newEnv(t, clk, cfg, func(o *Options) { o.Checks, o.Hub, o.View = runner, hub.New(), v })
	// A subscription of one message, so that the busy loop drops.
	e.m.o.Events = e.rec.Subscribe("incidents-small", 1)
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused") // as if web had failed, and its recovery...
	<-v.entered
	for range 3 { // ...been among what the busy Manager missed
		e.rec.Event(model.Event{Time: clk.Now(), Kind: model.EventReload, Reason: "filler"})
	}
	if e.m.o.Events.Dropped() == 0 {
		t.Fatal("nothing dropped; the test proves nothing")
	}
	close(v.gate)
	waitFor(t, 10*time.Second, "the incident to resolve", func() bool {
		inc, err := e.m.Get(1)
		return err == nil && !inc.IsOpen()
	})
	es := e.entries(1)
	if last := es[len(es)-2]; last.Check != "web" || last.To != model.StateUp || !strings.Contains(last.Text, "missed") {
		t.Errorf("entries %v; want web's recovery seen after the drop", kinds(es))
	}
}

// TestNew_Required: a Manager without its parts is refused.
func TestNew_Required(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without its parts succeeded")
	}
}

// TestManager_Stopped: once Run returned, actions answer ErrStopped at
// once instead of waiting.
func TestManager_Stopped(t *testing.T) {
	e := newEnv(t, fixedClock(t0), nil, nil)
	e.run()
	e.stopManager()
	err := e.m.Ack(ctxT(t), 1, "ann", "")
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Ack after Run returned: %v, want ErrStopped", err)
	}
}
