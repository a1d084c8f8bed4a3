package alert

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// deliveryVars fills delivery.yaml.
func deliveryVars(hook, slow string, groupWait string, maxPerHour int) map[string]string {
	return map[string]string{"HOOK_URL": hook, "SLOW_URL": slow, "GROUP_WAIT": groupWait, "REPEAT": "0s",
		"HOOK_MAX": fmt.Sprint(maxPerHour)}
}

// TestDeliver_GroupWait: changes within group_wait of the first become
// one message; a change after it is sent is the next message.
func TestDeliver_GroupWait(t *testing.T) {
	hook := newReceiver(t)
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "2s", 60), realClock())
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	e.check("db", model.StateUp, model.StateDown, "refused")
	e.check("dns", model.StateUp, model.StateDegraded, "slow")
	e.check("api", model.StateDown, model.StateUp, "ok")
	hook.waitAccepted(1, 10*time.Second)
	settle()
	got := hook.accepted()
	if len(got) != 1 {
		t.Fatalf("%d messages; want the four changes in one", len(got))
	}
	m := got[0].msg
	// api's newest state, in the order the alerts first appeared.
	if want := []string{"check:api/resolved", "check:db/firing", "check:dns/firing"}; !slices.Equal(alertsOf(m), want) {
		t.Errorf("alerts %v, want %v", alertsOf(m), want)
	}
	if want := "[FIRING:2] 2 problems on db-1, 1 resolved: "; !strings.HasPrefix(m.Title, want) || m.Host != testHost {
		t.Errorf("title %q host %q; want %q...", m.Title, m.Host, want)
	}
	e.check("web", model.StateUp, model.StateDown, "refused")
	got = hook.waitAccepted(2, 10*time.Second)
	if alertsOf(got[1].msg)[0] != "check:web/firing" || got[1].msg.ID == got[0].msg.ID {
		t.Errorf("second message %+v; want web alone, with its own id", got[1].msg)
	}
	waitFor(t, 5*time.Second, "hook's queue empty", func() bool { return len(e.outbox("hook")) == 0 })
	for _, d := range e.deliveries() {
		if d.Channel == "hook" && (d.State != model.OutboxDelivered || d.Attempts != 1 || d.MessageID == "") {
			t.Errorf("delivery %+v; want delivered at the first attempt with its message id", d)
		}
	}
}

// TestDeliver_OrderPerChannel: with group_wait 0 every change is its own
// message, in the order the changes happened.
func TestDeliver_OrderPerChannel(t *testing.T) {
	hook := newReceiver(t)
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 1000), realClock())
	var want []string
	for i := range 5 {
		for _, c := range []string{"api", "db"} {
			e.check(c, model.StateUp, model.StateDown, fmt.Sprint(i))
			e.check(c, model.StateDown, model.StateUp, fmt.Sprint(i))
			want = append(want, "check:"+c+"/firing", "check:"+c+"/resolved")
		}
	}
	e.run()
	got := hook.waitAccepted(len(want), 20*time.Second)
	var order []string
	for _, q := range got {
		order = append(order, alertsOf(q.msg)...)
	}
	if !slices.Equal(order, want) {
		t.Errorf("delivered %v\nwant      %v", order, want)
	}
}

// TestDeliver_Retry: a receiver failing twice then accepting gets the
// message three times with the same id (Idempotency-Key), with a backoff
// between attempts; the item is delivered once, its attempts recorded.
func TestDeliver_Retry(t *testing.T) {
	hook := newReceiver(t, answer{status: 500}, answer{status: 502})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 60), realClock())
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	hook.waitAccepted(1, 20*time.Second)
	reqs := hook.all()
	if len(reqs) != 3 {
		t.Fatalf("%d requests; want 3", len(reqs))
	}
	id := reqs[0].msg.ID
	for i, q := range reqs {
		if q.key != id || q.msg.ID != id || id == "" {
			t.Errorf("attempt %d: Idempotency-Key %q, id %q; want both %q", i, q.key, q.msg.ID, id)
		}
	}
	// Backoff 1s then 2s, each ±20% jitter; the machine only adds.
	if d1, d2 := reqs[1].at.Sub(reqs[0].at), reqs[2].at.Sub(reqs[1].at); d1 < 750*time.Millisecond || d2 < 1500*time.Millisecond {
		t.Errorf("waits between attempts %s, %s; want about 1s then 2s", d1, d2)
	}
	waitFor(t, 5*time.Second, "the delivery recorded", func() bool { return len(e.deliveries()) == 1 })
	d := e.deliveries()[0]
	if d.State != model.OutboxDelivered || d.Attempts != 3 || d.MessageID != id {
		t.Errorf("delivery %+v; want delivered after 3 attempts as %s", d, id)
	}
	// Counted right after storage recorded it.
	waitFor(t, 5*time.Second, "the delivery counted", func() bool { return e.a.Counters()["hook"]["delivered"] == 1 })
	if c := e.a.Counters()["hook"]; c["delivered"] != 1 || c["retried"] != 2 || c["failed"] != 0 {
		t.Errorf("Counters()[hook] = %v", c)
	}
}

// TestDeliver_RetryAfter: the wait a receiver asks for (longer than the
// backoff) is kept.
func TestDeliver_RetryAfter(t *testing.T) {
	hook := newReceiver(t, answer{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "3"}})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 60), realClock())
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	hook.waitAccepted(1, 20*time.Second)
	reqs := hook.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests; want 2", len(reqs))
	}
	if d := reqs[1].at.Sub(reqs[0].at); d < 2900*time.Millisecond {
		t.Errorf("retried after %s; want the 3s Retry-After asked for", d)
	}
}

// TestDeliver_Permanent: a refusal retrying cannot fix (400) fails the
// item at once; it is shown as failed with the error.
func TestDeliver_Permanent(t *testing.T) {
	hook := newReceiver(t)
	hook.setDefault(answer{status: http.StatusBadRequest})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 60), realClock())
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	waitFor(t, 10*time.Second, "the item failed", func() bool { return len(e.deliveries()) == 1 })
	settle()
	if n := len(hook.all()); n != 1 {
		t.Errorf("%d requests; want 1 (no retry after a 400)", n)
	}
	d := e.deliveries()[0]
	if d.State != model.OutboxFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "HTTP 400") {
		t.Errorf("delivery %+v; want failed with the 400", d)
	}
	stats, err := e.a.OutboxStats()
	if err != nil || len(stats) != 1 || stats[0].Failed != 1 || stats[0].Pending != 0 || !strings.Contains(stats[0].LastError, "400") {
		t.Errorf("OutboxStats = %+v, %v", stats, err)
	}
	if c := e.a.Counters()["hook"]; c["failed"] != 1 {
		t.Errorf("Counters()[hook] = %v", c)
	}
}

// TestDeliver_MaxAge: an item older than max_age (1h) is given up without
// a send; the next one goes out.
func TestDeliver_MaxAge(t *testing.T) {
	hook := newReceiver(t)
	clk := realClock()
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 60), clk)
	clk.Advance(-2 * time.Hour)
	e.check("api", model.StateUp, model.StateDown, "refused")
	clk.Advance(2 * time.Hour)
	e.check("db", model.StateUp, model.StateDown, "refused")
	e.run()
	got := hook.waitAccepted(1, 10*time.Second)
	if alertsOf(got[0].msg)[0] != "check:db/firing" || len(hook.all()) != 1 {
		t.Fatalf("sent %+v; want db only", hook.all())
	}
	waitFor(t, 5*time.Second, "both items finished", func() bool { return len(e.deliveries()) == 2 })
	d := e.deliveries()
	if d[0].Alert.Key != "check:api" || d[0].State != model.OutboxFailed || d[0].Attempts != 0 ||
		!strings.Contains(d[0].LastError, "max_age") {
		t.Errorf("old item %+v; want failed past max_age without an attempt", d[0])
	}
}

// TestDeliver_MaxPerHour: beyond max_per_hour messages wait in the outbox.
func TestDeliver_MaxPerHour(t *testing.T) {
	hook := newReceiver(t)
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 2), realClock())
	e.run()
	for _, c := range []string{"api", "db", "dns"} {
		e.check(c, model.StateUp, model.StateDown, "refused")
		time.Sleep(20 * time.Millisecond)
	}
	hook.waitAccepted(2, 10*time.Second)
	settle()
	if n := len(hook.all()); n != 2 {
		t.Errorf("%d messages; want 2 (max_per_hour)", n)
	}
	if p := e.outbox("hook"); len(p) != 1 || p[0].Alert.Key != "check:dns" {
		t.Errorf("pending %v; want dns waiting", keys(p))
	}
}

// TestDeliver_DownChannelIsolated: a channel whose receiver hangs does
// not hold up another channel's messages.
func TestDeliver_DownChannelIsolated(t *testing.T) {
	hook := newReceiver(t)
	slow := newReceiver(t)
	slow.setDefault(answer{hang: true})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), slow.url(), "0s", 60), realClock())
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused") // both channels
	start := time.Now()
	e.check("api", model.StateUp, model.StateDown, "refused") // hook only
	hook.waitAccepted(2, 10*time.Second)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("hook's messages took %s; the hanging channel (5s timeout) held them up", took)
	}
	if p := e.outbox("slow"); len(p) != 1 {
		t.Errorf("slow's queue %v; want web still pending", keys(p))
	}
}

// TestDeliver_Restart: what is queued when dashd stops goes out after the
// restart, once, under the id of its first attempt; the alerts still
// firing are loaded and no reminder goes out at once.
func TestDeliver_Restart(t *testing.T) {
	hook := newReceiver(t, answer{status: 503})
	clk := realClock()
	vars := deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 60)
	vars["REPEAT"] = "1m"
	e := newEnv(t, "delivery.yaml", vars, clk)
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	waitFor(t, 10*time.Second, "the first attempt", func() bool { return len(hook.all()) == 1 })
	waitFor(t, 5*time.Second, "the attempt recorded", func() bool {
		p := e.outbox("hook")
		return len(p) == 1 && p[0].Attempts == 1
	})
	clk.Advance(2 * time.Minute) // a reminder would be due
	e.restart()
	if n := e.a.FiringCount(); n != 1 {
		t.Fatalf("FiringCount after restart = %d; want api loaded", n)
	}
	e.run()
	got := hook.waitAccepted(1, 15*time.Second)
	settle()
	all := hook.all()
	if len(all) != 2 || len(hook.accepted()) != 1 || all[1].key != all[0].key || got[0].msg.Reminder {
		t.Fatalf("requests %+v; want the first attempt and one delivery with the same id, no reminder", all)
	}
	clk.Advance(61 * time.Second)
	got = hook.waitAccepted(2, 10*time.Second)
	if !got[1].msg.Reminder {
		t.Errorf("after repeat_interval: %+v; want a reminder", got[1].msg)
	}
}
