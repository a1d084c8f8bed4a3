package incident

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// The Manager is what the alerter asks about acknowledgements.
var _ alert.Acknowledgements = (*Manager)(nil)

// hook is a webhook endpoint on 127.0.0.1 that records the messages it
// accepts.
type hook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []hookMsg
}

// hookMsg is the part of the webhook's JSON document the tests read.
type hookMsg struct {
	Title    string        `json:"title"`
	Alerts   []model.Alert `json:"alerts"`
	Reminder bool          `json:"reminder"`
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var m hookMsg
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("hook: %v", err)
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) all() []hookMsg {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookMsg(nil), h.msgs...)
}

// loadConfig parses testdata/name with the real check and channel types.
func loadConfig(t *testing.T, name string, vars map[string]string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(name, data, config.Options{CheckTypes: collectors.Types(), ChannelTypes: channel.Types(),
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatalf("config %s: %v", name, err)
	}
	return cfg
}

// runAlerter starts a real Alerter on e's flow with the Manager as its
// acknowledgements, as the daemon wires them; cleanup stops it.
func runAlerter(t *testing.T, e *env) *alert.Alerter {
	t.Helper()
	runner := collectors.NewRunner(collectors.RunnerOptions{Logger: e.logger(), Now: e.clk.Now, MaxStartDelay: time.Millisecond})
	if err := runner.Apply(e.latest.Config().Checks); err != nil {
		t.Fatal(err)
	}
	a, err := alert.New(alert.Options{
		Store: e.db, Recorder: e.rec, Events: e.rec.Subscribe("alerts", 1024), Latest: e.latest, Checks: runner,
		NewSender: func(c config.Channel) (alert.Sender, error) {
			return channel.New(c, channel.Options{Now: e.clk.Now, Hostname: "dashd.test",
				RepeatInterval: e.latest.Config().Alerts.RepeatInterval.D()})
		},
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe,
		Acks: e.m, Host: "db-1", Logger: e.logger().With("part", "alerts"), Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	// Registered after newEnv's cleanup, so it runs before it: the
	// alerter stops before the Manager and the database.
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("alerter Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("alerter did not stop")
		}
	})
	return a
}

// remindNow makes the alerter run a reminder round at once (expiring a
// silence does) and gives it time to act.
func remindNow(t *testing.T, a *alert.Alerter, clk *clock) {
	t.Helper()
	ctx := ctxT(t)
	s, err := a.AddSilence(ctx, model.Silence{Checks: []string{"nothing"}, End: clk.Now().Add(time.Hour), Author: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ExpireSilence(ctx, s.ID, "test", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // generous: the machine is shared
}

// TestAck_StopsReminders: with a real Alerter and a real webhook, an
// incident's alerts are reminded until someone acknowledges it, then not;
// the resolution still goes out. The acknowledgement is an audit event,
// and the timeline records who was told what.
func TestAck_StopsReminders(t *testing.T) {
	h := newHook(t)
	clk := realClock()
	e := newEnv(t, clk, loadConfig(t, "alerts.yaml", map[string]string{"HOOK_URL": h.srv.URL + "/hook"}), nil)
	e.run()
	a := runAlerter(t, e)

	e.check("web", model.StateUp, model.StateDown, "connect: connection refused")
	waitFor(t, 10*time.Second, "the first message", func() bool { return len(h.all()) == 1 })
	waitFor(t, 10*time.Second, "the delivery in the timeline", func() bool {
		es, _ := e.m.Entries(1, 0, 0) // the incident may not be stored yet
		for _, en := range es {
			if en.Kind == model.EntryDelivery && en.Check == "web" && en.Text == "message sent to hook: web is down" {
				return true
			}
		}
		return false
	})

	// Not acknowledged: a reminder after repeat_interval.
	clk.Advance(61 * time.Second)
	remindNow(t, a, clk)
	waitFor(t, 10*time.Second, "a reminder", func() bool { return len(h.all()) == 2 })
	if m := h.all()[1]; !m.Reminder {
		t.Fatalf("second message %+v; want a reminder", m)
	}

	if err := e.m.Ack(ctxT(t), 1, "ann", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	acks := e.storedEvents(model.EventAck)
	if len(acks) != 1 || acks[0].User != "ann" || acks[0].Address != "192.0.2.7" ||
		acks[0].Reason != "acknowledged incident #1: web is down" || acks[0].Check != "web" {
		t.Fatalf("ack events %+v; want one by ann from 192.0.2.7 (the audit log's)", acks)
	}
	clk.Advance(61 * time.Second)
	remindNow(t, a, clk)
	clk.Advance(61 * time.Second)
	remindNow(t, a, clk)
	if n := len(h.all()); n != 2 {
		t.Fatalf("%d messages after the acknowledgement; want no more reminders", n)
	}

	e.check("web", model.StateDown, model.StateUp, "")
	waitFor(t, 10*time.Second, "the resolution", func() bool { return len(h.all()) == 3 })
	if m := h.all()[2]; m.Reminder || len(m.Alerts) != 1 || m.Alerts[0].State != model.AlertResolved {
		t.Fatalf("third message %+v; want web's resolution", m)
	}
	e.settled()
	inc := e.incident(1)
	if inc.IsOpen() || inc.AckedBy != "ann" {
		t.Fatalf("incident %+v; want it resolved, acknowledged by ann", inc)
	}
	waitFor(t, 10*time.Second, "the resolution's delivery in the timeline", func() bool {
		es := e.entries(1)
		return strings.HasPrefix(es[len(es)-1].Text, "resolution sent to hook")
	})
	var got []string
	for _, en := range e.entries(1) {
		got = append(got, string(en.Kind)+" "+en.Text)
	}
	want := []string{
		"state connect: connection refused",
		"delivery message sent to hook: web is down",
		"delivery reminder sent to hook: web is down",
		"ack acknowledged",
		"state ",
		"resolve everything recovered",
		"delivery resolution sent to hook: web recovered",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
