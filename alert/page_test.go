package alert

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestPage_State: the alerts page and the API show the firing alerts
// (most severe first, silenced ones marked), the silences, each channel's
// delivery health and the recent deliveries, test messages included.
func TestPage_State(t *testing.T) {
	hook := newReceiver(t)
	slow := newReceiver(t)
	slow.setDefault(answer{status: http.StatusBadRequest})
	clk := realClock()
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), slow.url(), "0s", 60), clk)
	e.run()
	ctx := context.Background()
	e.check("api", model.StateUp, model.StateDegraded, "slow")
	clk.Advance(time.Second)
	e.check("db", model.StateUp, model.StateDegraded, "slow")
	clk.Advance(time.Second)
	e.check("web", model.StateUp, model.StateDown, "refused") // hook and slow (400: fails)
	sil, err := e.a.AddSilence(ctx, model.Silence{Checks: []string{"db"}, End: clk.Now().Add(time.Hour), Author: "ann", Comment: "known"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := e.a.SendTest(ctx, "hook")
	if err != nil || it.ID == 0 || !it.Test || it.Channel != "hook" {
		t.Fatalf("SendTest = %+v, %v", it, err)
	}
	got := hook.waitAccepted(4, 10*time.Second)
	last := got[3].msg
	if !last.Test || !strings.HasPrefix(last.Title, "[TEST] dashd test message from "+testHost) {
		t.Errorf("test message %+v", last)
	}
	waitFor(t, 10*time.Second, "every item finished and counted", func() bool {
		c := e.a.Counters()
		return len(e.deliveries()) == 5 && c["hook"]["delivered"] == 4 && c["slow"]["failed"] == 1
	})

	if n := e.a.FiringCount(); n != 3 {
		t.Errorf("FiringCount = %d, want 3", n)
	}
	snap, err := e.a.State()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range snap.Firing {
		order = append(order, f.Name+":"+f.HeldBy)
	}
	if want := []string{"web:", "api:", "db:silence #" + itoa(sil.ID)}; !slices.Equal(order, want) {
		t.Errorf("State().Firing = %v, want %v (critical first, then oldest)", order, want)
	}
	if len(snap.Silences) != 1 || snap.Silences[0].Author != "ann" {
		t.Errorf("State().Silences = %+v", snap.Silences)
	}
	health := map[string]ChannelHealth{}
	for _, c := range snap.Channels {
		health[c.Name] = c
	}
	if h := health["hook"]; !h.Routed || h.Delivered != 4 || h.OutboxStat.Delivered != 4 || h.Type != "webhook" ||
		!strings.HasPrefix(h.Described, "webhook to 127.0.0.1:") || h.LastSuccess.IsZero() {
		t.Errorf("hook health %+v", h)
	}
	if h := health["slow"]; h.Failed != 1 || h.OutboxStat.Failed != 1 || !strings.Contains(h.LastError, "HTTP 400") {
		t.Errorf("slow health %+v", h)
	}
	if c := e.a.Counters(); c["hook"]["delivered"] != 4 || c["slow"]["failed"] != 1 {
		t.Errorf("Counters() = %v", c)
	}
	stats, err := e.a.OutboxStats()
	if err != nil || len(stats) != 2 {
		t.Errorf("OutboxStats = %+v, %v", stats, err)
	}

	v, err := e.a.Page(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !v.Sending || len(v.Firing) != 3 || v.Firing[0].Key != "check:web" || v.Firing[2].HeldBy == "" {
		t.Errorf("Page firing %+v", v.Firing)
	}
	if len(v.Silences) != 1 || v.Silences[0].Matchers != "checks db" || v.Silences[0].Pending {
		t.Errorf("Page silences %+v", v.Silences)
	}
	rows := map[string]bool{}
	for _, c := range v.Channels {
		rows[c.Name] = c.Healthy
		if c.Name == "slow" && !strings.Contains(c.LastError, "400") {
			t.Errorf("slow row %+v; want its error shown", c)
		}
	}
	if !rows["hook"] || rows["slow"] {
		t.Errorf("channel health on the page %v; want hook healthy, slow not", rows)
	}
	var summaries []string
	for _, d := range v.Deliveries {
		summaries = append(summaries, d.Channel+":"+d.State+":"+d.Summary)
	}
	if !slices.Contains(summaries, "hook:delivered:test message") || !slices.Contains(summaries, "slow:failed:web is down") {
		t.Errorf("Page deliveries %v", summaries)
	}
}

func TestSendTest_UnknownChannel(t *testing.T) {
	e := newEnv(t, "attach.yaml", attachVars, realClock())
	if _, err := e.a.SendTest(context.Background(), "nope"); !IsNoChannel(err) {
		t.Errorf("SendTest(nope) = %v; want a no-channel error", err)
	}
}
