package incident

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestManager_HostEventOpensAndRecovers: a fleet host's check going down
// opens an incident about "<check>@<host>" (never the hub's own check of
// that name), a redelivery of that event adds nothing, and its recovery
// resolves it.
func TestManager_HostEventOpensAndRecovers(t *testing.T) {
	e := newEnv(t, fixedClock(t0), nil, nil)
	e.run()
	ctx := context.Background()
	down := model.Event{Time: t0, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown, Reason: "refused"}
	if err := e.m.HostEvent(ctx, "db-1", down); err != nil {
		t.Fatal(err)
	}
	open := e.m.Open()
	if len(open) != 1 || !open[0].Involves("web@db-1") || open[0].Involves("web") {
		t.Fatalf("open after the host's check went down: %+v", open)
	}
	// The same event again (the ingester redelivers a batch it stored
	// but did not acknowledge) adds nothing to the timeline.
	if err := e.m.HostEvent(ctx, "db-1", down); err != nil {
		t.Fatal(err)
	}
	if again := e.m.Open(); len(again) != 1 || again[0].Entries != open[0].Entries {
		t.Fatalf("a redelivered event changed the incident: %d entries, was %d", again[0].Entries, open[0].Entries)
	}
	up := down
	up.From, up.To, up.Time = model.StateDown, model.StateUp, t0.Add(time.Minute)
	if err := e.m.HostEvent(ctx, "db-1", up); err != nil {
		t.Fatal(err)
	}
	if open := e.m.Open(); len(open) != 0 {
		t.Fatalf("still open after the host's check recovered: %+v", open)
	}
	if err := e.m.HostEvent(ctx, "db-1", model.Event{Time: t0, Kind: model.EventAudit, Check: "x"}); err != nil {
		t.Fatal(err)
	}
}

// hostStep is one event in TestManager_HostEventRuleAlerts: an agent's
// (through HostEvent) or, with local, the hub's own (through the flow).
type hostStep struct {
	host  string
	e     model.Event
	local bool
	// after moves the clock forward before the event.
	after time.Duration
}

// agentRule is an agent's rule alert event as the fleet ingester hands it
// over: kind alert, keyed by the agent, down while it fires.
func agentRule(host, key string, firing bool, text string) hostStep {
	to := model.StateUp
	if firing {
		to = model.StateDown
	}
	return hostStep{host: host, e: model.Event{Kind: model.EventAlert, Check: key, To: to, Reason: text}}
}

// TestManager_HostEventRuleAlerts: an agent's rule alert opens, joins,
// reopens and recovers incidents like the hub's own rule alerts, under
// the subject "<key>@<host>" (the alerter's key for it), apart from the
// hub's own rule of that name; repeats add nothing, and events that are
// no rule alert are ignored.
func TestManager_HostEventRuleAlerts(t *testing.T) {
	const (
		key  = "rule:disk-full:/var"
		text = "/var is 92% full: 92.4% used, above 90% for 5m"
	)
	fire := agentRule("db-1", key, true, text)
	resolve := agentRule("db-1", key, false, "/var is below 90% again")
	webDown := hostStep{host: "db-1", e: model.Event{Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown}}
	later := func(s hostStep, d time.Duration) hostStep { s.after = d; return s }
	tests := []struct {
		name  string
		steps []hostStep
		// What incident #1 became (incidents 0: none was opened).
		incidents int
		open      bool
		title     string
		checks    []string
		rules     []string
		failing   []string
		// kinds are its timeline's entry kinds.
		kinds []model.EntryKind
	}{
		{name: "fires", steps: []hostStep{fire}, incidents: 1, open: true,
			title: "db-1: " + text, rules: []string{key + "@db-1"}, failing: []string{key + "@db-1"},
			kinds: []model.EntryKind{model.EntryAlert}},
		{name: "fires and resolves", steps: []hostStep{fire, later(resolve, time.Minute)}, incidents: 1,
			title: "db-1: " + text, rules: []string{key + "@db-1"}, failing: []string{},
			kinds: []model.EntryKind{model.EntryAlert, model.EntryAlert, model.EntryResolve}},
		{name: "a repeated firing adds nothing", steps: []hostStep{fire, later(fire, time.Second)}, incidents: 1, open: true,
			title: "db-1: " + text, rules: []string{key + "@db-1"}, failing: []string{key + "@db-1"},
			kinds: []model.EntryKind{model.EntryAlert}},
		{name: "a repeated resolution adds nothing", steps: []hostStep{webDown, fire, resolve, later(resolve, time.Second)},
			incidents: 1, open: true, title: "web@db-1 is down", checks: []string{"web@db-1"}, rules: []string{key + "@db-1"},
			failing: []string{"web@db-1"}, kinds: []model.EntryKind{model.EntryState, model.EntryAlert, model.EntryAlert}},
		{name: "another host's joins", steps: []hostStep{fire, agentRule("db-2", key, true, text)}, incidents: 1, open: true,
			title: "db-1: " + text, rules: []string{key + "@db-1", key + "@db-2"}, failing: []string{key + "@db-1", key + "@db-2"},
			kinds: []model.EntryKind{model.EntryAlert, model.EntryAlert}},
		{name: "reopens within the grace", steps: []hostStep{fire, later(resolve, time.Minute), later(fire, time.Minute)},
			incidents: 1, open: true, title: "db-1: " + text, rules: []string{key + "@db-1"}, failing: []string{key + "@db-1"},
			kinds: []model.EntryKind{model.EntryAlert, model.EntryAlert, model.EntryResolve, model.EntryReopen}},
		{name: "the hub's own rule of that name does not resolve it",
			steps:     []hostStep{fire, {local: true, e: model.Event{Kind: model.EventAlert, Check: key, To: model.StateUp, Reason: "fine here"}}},
			incidents: 1, open: true, title: "db-1: " + text, rules: []string{key + "@db-1"}, failing: []string{key + "@db-1"},
			kinds: []model.EntryKind{model.EntryAlert}},
		{name: "no rule alert", steps: []hostStep{
			agentRule("db-1", "check:web", true, "web is down"),
			agentRule("db-1", "dashd:config", true, "configuration reload rejected"),
			agentRule("", key, true, text),
			{host: "db-1", e: model.Event{Kind: model.EventAlert, Check: key, To: model.StateDegraded}},
			{host: "db-1", e: model.Event{Kind: model.EventAudit, Check: key, To: model.StateDown}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixedClock(t0), nil, nil)
			e.run()
			ctx := context.Background()
			for _, s := range tt.steps {
				e.clk.Advance(s.after)
				s.e.Time = e.clk.Now()
				if s.local {
					e.rec.Event(s.e)
					e.settled()
					continue
				}
				if err := e.m.HostEvent(ctx, s.host, s.e); err != nil {
					t.Fatal(err)
				}
			}
			incs, err := e.m.List(0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(incs) != tt.incidents {
				t.Fatalf("%d incidents, want %d: %+v", len(incs), tt.incidents, incs)
			}
			if tt.incidents == 0 {
				return
			}
			inc := e.incident(1)
			if inc.IsOpen() != tt.open || inc.Title != tt.title || !slices.Equal(inc.Checks, nonNilList(tt.checks)) ||
				!slices.Equal(inc.Rules, tt.rules) || !slices.Equal(inc.Failing, tt.failing) {
				t.Errorf("incident %+v\nwant open %v, title %q, checks %q, rules %q, failing %q",
					inc, tt.open, tt.title, tt.checks, tt.rules, tt.failing)
			}
			if inc.Involves(key) {
				t.Errorf("incident involves the hub's own %s: %+v", key, inc)
			}
			var kinds []model.EntryKind
			for _, en := range e.entries(1) {
				kinds = append(kinds, en.Kind)
				if en.Kind == model.EntryAlert && en.Rule != key+"@db-1" && en.Rule != key+"@db-2" {
					t.Errorf("alert entry about %q", en.Rule)
				}
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("timeline %q, want %q", kinds, tt.kinds)
			}
		})
	}
}

// nonNilList is list, or an empty one for nil (an incident's Checks is
// never nil).
func nonNilList(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// TestManager_HostEventRepeatIsSameTimeAndState: a fleet host's event is
// a repeat (a redelivery) only when both its time and the state it goes
// to equal the last one followed for its subject; an agent whose clock
// stepped back still has its recovery followed.
func TestManager_HostEventRepeatIsSameTimeAndState(t *testing.T) {
	down := model.Event{Time: t0, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown, Reason: "refused"}
	at := func(e model.Event, from, to model.State, d time.Duration) model.Event {
		e.From, e.To, e.Time = from, to, t0.Add(d)
		return e
	}
	tests := []struct {
		name     string
		events   []model.Event
		wantOpen int
	}{
		{"recovery older than the failure (clock stepped back)",
			[]model.Event{down, at(down, model.StateDown, model.StateUp, -5*time.Minute)}, 0},
		{"recovery at the failure's own time",
			[]model.Event{down, at(down, model.StateDown, model.StateUp, 0)}, 0},
		{"failure redelivered", []model.Event{down, down}, 1},
		{"failure again after a recovery older than it",
			[]model.Event{down, at(down, model.StateDown, model.StateUp, -5*time.Minute), at(down, model.StateUp, model.StateDown, -4*time.Minute)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixedClock(t0), nil, nil)
			e.run()
			for i, ev := range tt.events {
				if err := e.m.HostEvent(context.Background(), "db-1", ev); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
			if open := e.m.Open(); len(open) != tt.wantOpen {
				t.Fatalf("%d open, want %d: %+v", len(open), tt.wantOpen, open)
			}
		})
	}
}
