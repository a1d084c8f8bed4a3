package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
)

// sharedSite is one hub of a two-hub site with everything that shares:
// its real incident Manager and alerter (on its store), and Actions
// wired as the daemon wires them.
type sharedSite struct {
	*siteHub
	rec   *flow.Recorder
	inc   *incident.Manager
	alert *alert.Alerter
}

// startShared builds the Manager and the alerter of s and runs them with
// its Actions (later actions come again every 200ms, for 3s).
func (s *sharedSite) startShared(t *testing.T) {
	t.Helper()
	var err error
	latest := state.New(config.Default(), time.Now())
	if s.rec, err = flow.New(flow.Options{Store: s.store, Latest: latest}); err != nil {
		t.Fatal(err)
	}
	s.push = &pushed{}
	s.acts, err = NewActions(ActionsOptions{Hub: s.hub, Store: s.store, Push: s.push, SilenceIndex: s.store,
		SpoolPath: filepath.Join(s.dir, "actions.db"), Retry: 100 * time.Millisecond,
		LaterDelay: 200 * time.Millisecond, LaterFor: 3 * time.Second, Logger: testLogger(t).With("actions", s.name)})
	if err != nil {
		t.Fatal(err)
	}
	s.inc, err = incident.New(incident.Options{Store: s.store, Recorder: s.rec, Events: s.rec.Subscribe("incidents", 1024),
		Sharer: s.acts, Logger: testLogger(t).With("incidents", s.name)})
	if err != nil {
		t.Fatal(err)
	}
	s.alert, err = alert.New(alert.Options{Store: s.store, Recorder: s.rec, Events: s.rec.Subscribe("alerts", 1024),
		Latest: latest, Checks: collectors.NewRunner(collectors.RunnerOptions{}),
		NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe,
		Logger: testLogger(t).With("alerts", s.name)})
	if err != nil {
		t.Fatal(err)
	}
	s.acts.SetTargets(s.inc, s.alert)
	stopInc := runPart(t, s.inc.Run)
	stopAlert := runPart(t, s.alert.Run)
	stopActs := runPart(t, s.acts.Run)
	s.stop = func() { stopActs(); stopAlert(); stopInc() }
}

// twoSharedHubs is twoHubs with incidents and silences shared.
func twoSharedHubs(t *testing.T) (a, b *sharedSite, emb *Embedded) {
	t.Helper()
	return twoSharedHubsWith(t, nil)
}

// twoSharedHubsWith is twoSharedHubs with prepB, when not nil, run on hub
// b's data file (its path) before b opens it.
func twoSharedHubsWith(t *testing.T, prepB func(path string)) (a, b *sharedSite, emb *Embedded) {
	t.Helper()
	dirA, dirB := t.TempDir(), t.TempDir()
	if prepB != nil {
		prepB(filepath.Join(dirB, "dashd.db"))
	}
	a = &sharedSite{siteHub: newSiteHub(t, "a", hubAConfig(t, "127.0.0.1:0"), dirA, openStore(t, filepath.Join(dirA, "dashd.db")))}
	if err := a.hub.Start(); err != nil {
		t.Fatal(err)
	}
	emb = a.hub.Embedded()
	t.Cleanup(emb.Shutdown)
	b = &sharedSite{siteHub: newSiteHub(t, "b", hubBConfig(t, emb.ClientURL()), dirB, openStore(t, filepath.Join(dirB, "dashd.db")))}
	a.startShared(t)
	b.startShared(t)
	return a, b, emb
}

// checkDown records check going down on s's flow at at: its Manager opens
// (or joins) an incident.
func (s *sharedSite) checkDown(t *testing.T, check string, at time.Time) {
	t.Helper()
	s.rec.Event(model.Event{Time: at, Kind: model.EventCheck, Check: check, From: model.StateUp, To: model.StateDown, Reason: "refused"})
}

// hostCheck hands s's Manager fleet host host's check going to state
// to at at, as the fleet ingester does with an agent's event: its
// subject is "<check>@<host>", the same thing on every hub.
func (s *sharedSite) hostCheck(t *testing.T, host, check string, to model.State, at time.Time) {
	t.Helper()
	from := model.StateUp
	if to == model.StateUp {
		from = model.StateDown
	}
	if err := s.inc.HostEvent(context.Background(), host, model.Event{Time: at, Kind: model.EventCheck, Check: check,
		From: from, To: to, Reason: "refused"}); err != nil {
		t.Fatal(err)
	}
}

// openIncident waits for s's open incident involving check.
func (s *sharedSite) openIncident(t *testing.T, check string) model.Incident {
	t.Helper()
	var inc model.Incident
	eventually(t, 20*time.Second, "incident of "+check+" on hub "+s.name, func() (bool, string) {
		for _, i := range s.inc.Open() {
			if i.Involves(check) {
				inc = i
				return true, ""
			}
		}
		return false, fmt.Sprint(s.inc.Open())
	})
	return inc
}

// entriesOf returns the entries of incident id on s of kind k.
func (s *sharedSite) entriesOf(t *testing.T, id uint64, k model.EntryKind) []model.IncidentEntry {
	t.Helper()
	es, err := s.inc.Entries(id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.IncidentEntry
	for _, e := range es {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// TestActions_IncidentActionsReachTheOtherHubOnce: each thing people do
// to an incident on hub a (acknowledge, note public and private, chat,
// hold, let go, resolve by hand) lands once on hub b's own incident of
// the same failure of a fleet host's check (both hubs read the agent),
// numbered differently there, recorded with the user and "a" as its
// origin; nothing comes back to a.
func TestActions_IncidentActionsReachTheOtherHubOnce(t *testing.T) {
	a, b, _ := twoSharedHubs(t)
	start := time.Now().Add(-time.Minute)
	// Hub b has an older incident, so the same failure has another
	// number there: an action must follow the failure, not the number.
	b.hostCheck(t, "web-1", "db", model.StateDown, start.Add(-time.Hour))
	old := b.openIncident(t, "db@web-1")
	b.hostCheck(t, "web-1", "db", model.StateUp, start.Add(-50*time.Minute))
	eventually(t, 20*time.Second, "b's older incident resolved", func() (bool, string) {
		return len(b.inc.Open()) == 0, fmt.Sprint(b.inc.Open())
	})
	a.hostCheck(t, "web-1", "web", model.StateDown, start)
	b.hostCheck(t, "web-1", "web", model.StateDown, start.Add(20*time.Second)) // b saw it a little later
	incA, incB := a.openIncident(t, "web@web-1"), b.openIncident(t, "web@web-1")
	if incA.ID == incB.ID {
		t.Fatalf("both hubs numbered the incident %d: the test needs them apart", incA.ID)
	}
	ctx := context.Background()
	steps := []struct {
		name string
		kind model.EntryKind
		do   func() error
		text string
	}{
		{"ack", model.EntryAck, func() error { return a.inc.Ack(ctx, incA.ID, "alice", "127.0.0.1") }, "acknowledged"},
		{"note", model.EntryNote, func() error { return a.inc.Note(ctx, incA.ID, "alice", "127.0.0.1", "restarting web", false) }, "restarting web"},
		{"public note", model.EntryNote, func() error { return a.inc.Note(ctx, incA.ID, "alice", "127.0.0.1", "we are on it", true) }, "we are on it"},
		{"chat", model.EntryChat, func() error { return a.inc.Chat(ctx, incA.ID, "alice", "127.0.0.1", "anyone on db?") }, "anyone on db?"},
		{"hold", model.EntryHold, func() error { return a.inc.Hold(ctx, incA.ID, "alice", "127.0.0.1", true) }, "held open"},
		{"let go", model.EntryHold, func() error { return a.inc.Hold(ctx, incA.ID, "alice", "127.0.0.1", false) }, "let go"},
		{"resolve", model.EntryResolve, func() error { return a.inc.Resolve(ctx, incA.ID, "alice", "127.0.0.1", "bad deploy rolled back") }, "bad deploy rolled back"},
	}
	for _, st := range steps {
		before := len(b.entriesOf(t, incB.ID, st.kind))
		if err := st.do(); err != nil {
			t.Fatalf("%s on a: %v", st.name, err)
		}
		eventually(t, 20*time.Second, st.name+" on hub b", func() (bool, string) {
			es := b.entriesOf(t, incB.ID, st.kind)
			return len(es) == before+1, fmt.Sprintf("%+v", es)
		})
		es := b.entriesOf(t, incB.ID, st.kind)
		got := es[len(es)-1]
		if got.User != "alice" || got.Origin != "a" || got.Text != st.text || got.Action == "" {
			t.Errorf("%s on b: %+v, want alice's via a with %q", st.name, got, st.text)
		}
		if st.name == "public note" && !got.Public {
			t.Errorf("the public note is private on b: %+v", got)
		}
	}
	got, err := b.inc.Get(incB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IsOpen() || got.ResolvedBy != "alice" || got.Summary != "bad deploy rolled back" || got.AckedBy != "alice" {
		t.Errorf("b's incident after a's actions: %+v", got)
	}
	if len(b.entriesOf(t, old.ID, model.EntryAck)) != 0 {
		t.Errorf("b's other incident (#%d, a's number) got a's acknowledgement", old.ID)
	}
	// Nothing came back to a: its own actions once each, none via b.
	time.Sleep(500 * time.Millisecond)
	for _, k := range []model.EntryKind{model.EntryAck, model.EntryChat, model.EntryResolve} {
		es := a.entriesOf(t, incA.ID, k)
		if len(es) != 1 || es[0].Origin != "" {
			t.Errorf("a's %s entries: %+v, want its own once", k, es)
		}
	}
	if st := a.acts.Stats(); st.Stored != 0 || st.Skipped != uint64(len(steps)) {
		t.Errorf("hub a: %+v, want its %d own actions skipped and nothing applied", st, len(steps))
	}
	if st := b.acts.Stats(); st.Stored != uint64(len(steps)) || st.Duplicates != 0 {
		t.Errorf("hub b: %+v, want %d applied once", st, len(steps))
	}
}

// TestActions_IncidentActionRedeliveredOnce: the same incident action
// published again under another message id (as after the duplicate
// window, or a redelivery after a stop between the store and the
// acknowledgement) adds no second entry.
func TestActions_IncidentActionRedeliveredOnce(t *testing.T) {
	_, b, emb := twoSharedHubs(t)
	start := time.Now().Add(-time.Minute)
	b.hostCheck(t, "web-1", "web", model.StateDown, start)
	incB := b.openIncident(t, "web@web-1")
	msg, err := IncidentAction("c", incident.Shared{Kind: model.EntryNote, Ref: incident.Ref{Subjects: []string{"web@web-1"}, Started: start},
		Incident: 9, Time: time.Now(), User: "carol", Text: "looking"})
	if err != nil {
		t.Fatal(err)
	}
	js := testJetStream(t, emb)
	publishAs(t, js, msg, msg.ID)
	publishAs(t, js, msg, msg.ID+":again")
	eventually(t, 20*time.Second, "both copies handled on b", func() (bool, string) {
		st := b.acts.Stats()
		return st.Stored == 1 && st.Duplicates == 1, fmt.Sprintf("%+v", st)
	})
	if es := b.entriesOf(t, incB.ID, model.EntryNote); len(es) != 1 || es[0].Origin != "c" {
		t.Errorf("b's notes: %+v, want carol's once, via c", es)
	}
}

// TestActions_IncidentActionWaitsForItsIncident: an action for a failure
// hub b has not seen yet comes again until b opens its incident, then is
// applied; one whose incident never comes is dropped after LaterFor and
// counted.
func TestActions_IncidentActionWaitsForItsIncident(t *testing.T) {
	_, b, emb := twoSharedHubs(t)
	start := time.Now()
	js := testJetStream(t, emb)
	ack, _ := IncidentAction("c", incident.Shared{Kind: model.EntryAck, Ref: incident.Ref{Subjects: []string{"web@web-1"}, Started: start},
		Incident: 3, Time: start, User: "carol"})
	never, _ := IncidentAction("c", incident.Shared{Kind: model.EntryAck, Ref: incident.Ref{Subjects: []string{"nothing-fails@web-1"}, Started: start},
		Incident: 4, Time: start, User: "carol"})
	publishAs(t, js, ack, ack.ID)
	publishAs(t, js, never, never.ID)
	eventually(t, 20*time.Second, "the ack put back", func() (bool, string) {
		st := b.acts.Stats()
		return st.Retried >= 2, fmt.Sprintf("%+v", st)
	})
	b.hostCheck(t, "web-1", "web", model.StateDown, start.Add(30*time.Second))
	incB := b.openIncident(t, "web@web-1")
	eventually(t, 20*time.Second, "the ack applied once b has the incident", func() (bool, string) {
		es := b.entriesOf(t, incB.ID, model.EntryAck)
		return len(es) == 1, fmt.Sprintf("%+v %+v", es, b.acts.Stats())
	})
	eventually(t, 20*time.Second, "the unmatched one dropped", func() (bool, string) {
		st := b.acts.Stats()
		return st.Unmatched == 1 && st.Stored == 1, fmt.Sprintf("%+v", st)
	})
}

// TestActions_OwnIncidentsStayOwn: what people do to an incident of hub
// a's own check or rule is that hub's: hub b's own check and rule of the
// same names (other things, on another host) keep their incident open
// and unacknowledged, and a's actions are dropped there once they have
// waited LaterFor. An unqualified subject from another hub (an older
// dashd) is refused, never matched against b's own.
func TestActions_OwnIncidentsStayOwn(t *testing.T) {
	a, b, emb := twoSharedHubs(t)
	start := time.Now().Add(-time.Minute)
	for _, s := range []*sharedSite{a, b} {
		s.checkDown(t, "web", start)
		s.rec.Event(model.Event{Time: start, Kind: model.EventAlert, Check: "rule:cpu-high", From: model.StateUp,
			To: model.StateDown, Reason: "cpu high"})
	}
	incA, incB := a.openIncident(t, "web"), b.openIncident(t, "web")
	ctx := context.Background()
	if err := a.inc.Ack(ctx, incA.ID, "alice", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := a.inc.Resolve(ctx, incA.ID, "alice", "127.0.0.1", "fixed on a"); err != nil {
		t.Fatal(err)
	}
	old, _ := IncidentAction("c", incident.Shared{Kind: model.EntryNote, Ref: incident.Ref{Subjects: []string{"web", "rule:cpu-high"},
		Started: start}, Incident: 5, Time: time.Now(), User: "carol", Text: "c's own web"})
	publishAs(t, testJetStream(t, emb), old, old.ID)
	eventually(t, 20*time.Second, "a's actions dropped on b, c's refused", func() (bool, string) {
		st := b.acts.Stats()
		return st.Unmatched == 2 && st.Refused == 1, fmt.Sprintf("%+v", st)
	})
	got, err := b.inc.Get(incB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsOpen() || got.AckedBy != "" || len(b.entriesOf(t, incB.ID, model.EntryNote)) != 0 {
		t.Errorf("b's own incident after a's actions on a's own: %+v", got)
	}
	if st := b.acts.Stats(); st.Stored != 0 {
		t.Errorf("hub b applied %d of the other hubs' actions on its own incident", st.Stored)
	}
}

// TestActions_SilencesAcrossHubs: a silence made on hub a holds on hub b
// (stored once, with a as its origin); b expires it and it ends on a; a
// redelivered silence is stored once.
func TestActions_SilencesAcrossHubs(t *testing.T) {
	a, b, emb := twoSharedHubs(t)
	ctx := context.Background()
	made, err := a.alert.AddSilence(ctx, model.Silence{Checks: []string{"web*"}, End: time.Now().Add(time.Hour),
		Author: "alice", Comment: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.acts.ShareSilence(made); err != nil { // as the daemon's sharedAlerts does
		t.Fatal(err)
	}
	var copyB model.Silence
	eventually(t, 20*time.Second, "the silence in force on b", func() (bool, string) {
		snap, err := b.alert.State()
		if err != nil || len(snap.Silences) != 1 {
			return false, fmt.Sprint(snap.Silences, err)
		}
		copyB = snap.Silences[0]
		return true, ""
	})
	if copyB.Origin != "a" || copyB.OriginID != made.ID || copyB.Author != "alice" || !slices.Equal(copyB.Checks, []string{"web*"}) {
		t.Errorf("b's copy: %+v, want alice's web* from a #%d", copyB, made.ID)
	}
	// A redelivery is stored once.
	msg, _ := SilenceAction("a", made)
	publishAs(t, testJetStream(t, emb), msg, msg.ID+":again")
	eventually(t, 20*time.Second, "the redelivery seen as one", func() (bool, string) {
		st := b.acts.Stats()
		return st.Duplicates == 1, fmt.Sprintf("%+v", st)
	})
	if all, _ := b.store.Silences(time.Time{}); len(all) != 1 {
		t.Errorf("b holds %d silences, want 1", len(all))
	}
	// b expires its copy: a's own silence ends.
	if err := b.alert.ExpireSilence(ctx, copyB.ID, "bob", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.acts.ShareSilenceExpiry(copyB, "bob", time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the silence ended on a", func() (bool, string) {
		snap, err := a.alert.State()
		return err == nil && len(snap.Silences) == 0, fmt.Sprint(snap.Silences, err)
	})
	s, ok, err := a.store.Silence(made.ID)
	if err != nil || !ok || s.Expired.IsZero() {
		t.Errorf("a's silence after b expired it: %+v %v %v", s, ok, err)
	}
}

// TestActions_RemoteChatHeldToTheChatRule: a chat message from another hub
// that the chat page would refuse (over 500 characters, control
// characters, padded) is refused; one within the rule is stored with its
// origin.
func TestActions_RemoteChatHeldToTheChatRule(t *testing.T) {
	_, b, emb := twoSharedHubs(t)
	js := testJetStream(t, emb)
	bad := []string{strings.Repeat("x", model.MaxChatText+1), "bell\x07", " padded "}
	for i, text := range bad {
		m, _ := ChatAction("c", model.ChatMessage{ID: uint64(i + 1), Room: "ops", Author: "mallory", Text: text, Time: time.Now()})
		publishAs(t, js, m, m.ID)
	}
	ok, _ := ChatAction("c", model.ChatMessage{ID: 9, Room: "ops", Author: "carol", Text: strings.Repeat("é", model.MaxChatText), Time: time.Now()})
	publishAs(t, js, ok, ok.ID)
	eventually(t, 20*time.Second, "the good message after the bad ones", func() (bool, string) {
		st := b.acts.Stats()
		return st.Stored == 1 && st.Refused == uint64(len(bad)), fmt.Sprintf("%+v", st)
	})
	msgs, err := b.store.ChatLatest("ops", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Author != "carol" || msgs[0].Origin != "c" {
		t.Errorf("b's chat: %+v, want carol's message via c only", msgs)
	}
}

// testJetStream is a JetStream client on emb, once the actions stream is
// there.
func testJetStream(t *testing.T, emb *Embedded) jetstream.JetStream {
	t.Helper()
	nc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "actions stream", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := js.Stream(ctx, ActionsStreamName)
		return err == nil, fmt.Sprint(err)
	})
	return js
}

// publishAs publishes msg with the message id id.
func publishAs(t *testing.T, js jetstream.JetStream, msg Message, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := &nats.Msg{Subject: msg.Subject, Data: msg.Data, Header: nats.Header{}}
	out.Header.Set(jetstream.MsgIDHeader, id)
	if _, err := js.PublishMsg(ctx, out); err != nil {
		t.Fatal(err)
	}
}
