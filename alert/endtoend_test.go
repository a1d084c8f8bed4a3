package alert

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
)

// TestEndToEnd_TCPCheck: a real tcp check, run by a real Runner whose sink
// is the Recorder, goes down when its listener closes and up when it
// listens again; the webhook hears both, with the check's labels.
func TestEndToEnd_TCPCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go acceptAll(ln)
	hook := newReceiver(t)
	e := newEnv(t, "endtoend.yaml", map[string]string{"HOOK_URL": hook.url(), "WEB_ADDR": addr}, realClock())
	runner := collectors.NewRunner(collectors.RunnerOptions{Sink: e.rec, Logger: e.logger(), MaxStartDelay: time.Millisecond})
	if err := runner.Apply(e.latest.Config().Checks); err != nil {
		t.Fatal(err)
	}
	e.runner = runner // the Alerter reads the running one's statuses
	e.a = e.newAlerter()
	e.run()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor(t, 10*time.Second, "web up", func() bool {
		st, _ := runner.Status("web")
		return st.State == model.StateUp
	})
	ln.Close()
	got := hook.waitAccepted(1, 15*time.Second)
	al := got[0].msg.Alerts[0]
	if al.Key != "check:web" || al.State != model.AlertFiring || al.Labels["group"] != "shop" || al.Labels["type"] != "tcp" ||
		!strings.Contains(al.Reason, "refused") || al.URL != "https://dash.example.org/checks/web" {
		t.Fatalf("down: %+v; want web firing with its labels and reason", al)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("NOT TESTED (recovery): cannot listen on %s again: %v", addr, err)
	}
	defer ln2.Close()
	go acceptAll(ln2)
	got = hook.waitAccepted(2, 15*time.Second)
	if al := got[1].msg.Alerts[0]; al.Key != "check:web" || al.State != model.AlertResolved || !al.EndsAt.After(al.StartsAt) {
		t.Fatalf("up: %+v; want web resolved", al)
	}
}

// acceptAll accepts and closes connections until ln is closed.
func acceptAll(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
