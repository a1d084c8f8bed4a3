package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// pushed records what Actions pushed to the live pages.
type pushed struct {
	mu   sync.Mutex
	msgs []model.ChatMessage
}

func (p *pushed) PushChat(_ context.Context, m model.ChatMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, m)
}

func (p *pushed) texts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.msgs {
		out = append(out, m.Text)
	}
	return out
}

// siteHub is one hub of a two-hub site: its store, its Hub (not run:
// Actions only connects through it) and its Actions.
type siteHub struct {
	name  string
	dir   string
	store *storage.DB
	hub   *Hub
	push  *pushed
	acts  *Actions
	stop  func()
}

// hubAConfig is the hub with the embedded server, letting hub b in.
func hubAConfig(t *testing.T, listen string) *config.Fleet {
	return fleetConfig(t, fmt.Sprintf(`
fleet:
  name: a
  nats:
    embedded:
      listen: %s
      max_store: 64MB
  stream:
    max_bytes: 32MB
    duplicate_window: 10s
  agents:
    - host: web-1
      password: %s
  hubs:
    - host: hub-b
      password: %s
`, listen, testPassword, testPassword)).Fleet
}

// hubBConfig is the hub that uses hub a's server.
func hubBConfig(t *testing.T, url string) *config.Fleet {
	return fleetConfig(t, fmt.Sprintf(`
fleet:
  name: b
  nats:
    urls: [%s]
    user: hub-b
    password: %s
  stream:
    max_bytes: 32MB
    duplicate_window: 10s
`, url, testPassword)).Fleet
}

func newSiteHub(t *testing.T, name string, f *config.Fleet, dir string, store *storage.DB) *siteHub {
	t.Helper()
	h, err := NewHub(HubOptions{Fleet: f, Store: store, Events: newRecorder(t, filepath.Join(dir, "events.db")), DataDir: dir,
		HubName: name, Logger: testLogger(t).With("hub", name)})
	if err != nil {
		t.Fatal(err)
	}
	return &siteHub{name: name, dir: dir, store: store, hub: h}
}

// start runs the hub's Actions (a fresh one on the same outbox file).
// Each of with changes the options first.
func (s *siteHub) start(t *testing.T, with ...func(*ActionsOptions)) {
	t.Helper()
	s.push = &pushed{}
	o := ActionsOptions{Hub: s.hub, Store: s.store, Push: s.push, SpoolPath: filepath.Join(s.dir, "actions.db"),
		Retry: 100 * time.Millisecond, Logger: testLogger(t).With("actions", s.name)}
	for _, f := range with {
		f(&o)
	}
	var err error
	s.acts, err = NewActions(o)
	if err != nil {
		t.Fatal(err)
	}
	s.stop = runPart(t, s.acts.Run)
}

// say stores a chat message on the hub and shares it, as the daemon's
// store wrapper does.
func (s *siteHub) say(t *testing.T, room, text string) model.ChatMessage {
	t.Helper()
	m, err := s.store.AddChat(context.Background(), model.ChatMessage{Room: room, Author: "alice@" + s.name, Text: text, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.acts.Chat(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func chatTexts(t *testing.T, db *storage.DB, room string) []string {
	t.Helper()
	msgs, err := db.ChatLatest(room, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

// twoHubs starts hub a (embedded server) and hub b (on a's server), with
// their Actions running.
func twoHubs(t *testing.T) (a, b *siteHub, emb *Embedded) {
	t.Helper()
	return twoHubsWith(t, hubAConfig(t, "127.0.0.1:0"))
}

// twoHubsWith is twoHubs with hub a's fleet configuration fa; each of
// with changes both hubs' Actions options.
func twoHubsWith(t *testing.T, fa *config.Fleet, with ...func(*ActionsOptions)) (a, b *siteHub, emb *Embedded) {
	t.Helper()
	dirA, dirB := t.TempDir(), t.TempDir()
	a = newSiteHub(t, "a", fa, dirA, openStore(t, filepath.Join(dirA, "dashd.db")))
	if err := a.hub.Start(); err != nil {
		t.Fatal(err)
	}
	emb = a.hub.Embedded()
	t.Cleanup(emb.Shutdown)
	b = newSiteHub(t, "b", hubBConfig(t, emb.ClientURL()), dirB, openStore(t, filepath.Join(dirB, "dashd.db")))
	a.start(t, with...)
	b.start(t, with...)
	return a, b, emb
}

// TestActions_ChatReachesTheOtherHubOnce: a message said on hub a is
// stored on hub b (room, author and time kept) and pushed to b's pages;
// a reads its own message back and skips it; b restarted reads nothing
// twice, and what a said while b was away arrives when b is back.
func TestActions_ChatReachesTheOtherHubOnce(t *testing.T) {
	a, b, _ := twoHubs(t)
	sent := a.say(t, "ops", "disk on db-1 is filling")
	eventually(t, 20*time.Second, "message on hub b", func() (bool, string) {
		got := chatTexts(t, b.store, "ops")
		return len(got) == 1, fmt.Sprint(got)
	})
	msgs, _ := b.store.ChatLatest("ops", 10)
	if m := msgs[0]; m.Author != sent.Author || !m.Time.Equal(sent.Time) || m.Room != "ops" {
		t.Errorf("stored on b as %+v, want room, author and time of %+v", m, sent)
	}
	// b pushes to its pages after its commit, so the push may trail the
	// store by a moment.
	eventually(t, 5*time.Second, "message pushed to b's pages", func() (bool, string) {
		got := b.push.texts()
		return slices.Equal(got, []string{"disk on db-1 is filling"}), fmt.Sprintf("pushed to b's pages: %q", got)
	})
	eventually(t, 20*time.Second, "a skips its own message", func() (bool, string) {
		st := a.acts.Stats()
		return st.Skipped == 1, fmt.Sprintf("%+v", st)
	})
	if got := chatTexts(t, a.store, "ops"); len(got) != 1 {
		t.Errorf("hub a holds %q, want its own message once", got)
	}
	if got := a.push.texts(); len(got) != 0 {
		t.Errorf("a pushed its own message again: %q", got)
	}

	b.stop()
	a.say(t, "ops", "said while b was away")
	b.start(t)
	eventually(t, 20*time.Second, "catch-up on hub b", func() (bool, string) {
		got := chatTexts(t, b.store, "ops")
		return slices.Equal(got, []string{"disk on db-1 is filling", "said while b was away"}), fmt.Sprint(got)
	})
	time.Sleep(500 * time.Millisecond) // time for a wrong redelivery to land
	if got := chatTexts(t, b.store, "ops"); len(got) != 2 {
		t.Fatalf("hub b after restart holds %q, want each message once", got)
	}
	if st := b.acts.Stats(); st.Stored != 1 || st.Skipped != 0 {
		t.Errorf("restarted b: %+v, want only the new message stored", st)
	}

	// And the other way round.
	b.say(t, "ops", "from b")
	eventually(t, 20*time.Second, "b's message on a", func() (bool, string) {
		got := chatTexts(t, a.store, "ops")
		return len(got) == 3 && got[2] == "from b", fmt.Sprint(got)
	})
}

// TestActions_RedeliveryIsStoredOnce: the same chat message delivered
// again (published anew after the duplicate window, or redelivered after
// a stop between storing and acknowledging) is not stored twice; a
// re-publish within the window never reaches the stream twice.
func TestActions_RedeliveryIsStoredOnce(t *testing.T) {
	a, b, emb := twoHubs(t)
	m := model.ChatMessage{ID: 7, Room: "ops", Author: "carol", Text: "rebooting web-1", Time: time.Now()}
	msg, err := ChatAction("c", m)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	publish := func(id string) {
		t.Helper()
		out := &nats.Msg{Subject: msg.Subject, Data: msg.Data, Header: nats.Header{}}
		out.Header.Set(jetstream.MsgIDHeader, id)
		if _, err := js.PublishMsg(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "actions stream", func() (bool, string) {
		_, err := js.Stream(ctx, ActionsStreamName)
		return err == nil, fmt.Sprint(err)
	})
	publish(msg.ID)
	publish(msg.ID)                // within the duplicate window: dropped by the stream
	publish(msg.ID + ":republish") // as if after the window: reaches the hubs again
	for _, h := range []*siteHub{a, b} {
		eventually(t, 20*time.Second, "both copies handled on "+h.name, func() (bool, string) {
			st := h.acts.Stats()
			return st.Stored == 1 && st.Duplicates == 1, fmt.Sprintf("%+v", st)
		})
		if got := chatTexts(t, h.store, "ops"); !slices.Equal(got, []string{"rebooting web-1"}) {
			t.Errorf("hub %s holds %q, want the message once", h.name, got)
		}
	}
	s, err := js.Stream(ctx, ActionsStreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("stream holds %d messages, want 2 (the re-publish within the window dropped)", info.State.Msgs)
	}
}

// TestActions_RefusesBadActionsAndGoesOn: undecodable actions are
// terminated and counted, and the good one after them is stored.
func TestActions_RefusesBadActionsAndGoesOn(t *testing.T) {
	_, b, emb := twoHubs(t)
	nc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eventually(t, 20*time.Second, "actions stream", func() (bool, string) {
		_, err := js.Stream(ctx, ActionsStreamName)
		return err == nil, fmt.Sprint(err)
	})
	good, _ := ChatAction("c", model.ChatMessage{ID: 1, Room: "ops", Author: "dan", Text: "ok", Time: time.Now()})
	tests := []struct{ name, subject, data string }{
		{"not JSON", ActionSubject("c", ActionChat), "{"},
		{"bad room", ActionSubject("c", ActionChat), `{"room":"../etc","author":"x","text":"hi","time":"2026-01-02T03:04:05Z"}`},
		{"empty text", ActionSubject("c", ActionChat), `{"room":"ops","author":"x","text":"","time":"2026-01-02T03:04:05Z"}`},
		{"no time", ActionSubject("c", ActionChat), `{"room":"ops","author":"x","text":"hi"}`},
		{"huge text", ActionSubject("c", ActionChat), `{"room":"ops","author":"x","text":"` + strings.Repeat("x", 9<<10) + `","time":"2026-01-02T03:04:05Z"}`},
		{"unknown kind", ActionPrefix + ".c.launch", `{}`},
		{"bad hub token", ActionPrefix + ".C!.chat", `{}`},
	}
	for _, tt := range tests {
		if _, err := js.Publish(ctx, tt.subject, []byte(tt.data)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	if _, err := js.Publish(ctx, good.Subject, good.Data); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "good action after the bad ones", func() (bool, string) {
		st := b.acts.Stats()
		return st.Stored == 1 && st.Refused == uint64(len(tests)), fmt.Sprintf("%+v", st)
	})
	if got := chatTexts(t, b.store, "ops"); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("hub b holds %q", got)
	}
}

// TestActions_OutboxWaitsForNATS: a message said while the hub cannot
// reach NATS waits in the outbox, survives a restart of the hub's
// Actions, and is published once NATS is there.
func TestActions_OutboxWaitsForNATS(t *testing.T) {
	listen := freePort(t)
	dirB := t.TempDir()
	b := newSiteHub(t, "b", hubBConfig(t, "nats://"+listen), dirB, openStore(t, filepath.Join(dirB, "dashd.db")))
	b.start(t)
	b.say(t, "ops", "nobody hears this yet")
	if w := b.acts.Stats().Waiting; w != 1 {
		t.Fatalf("outbox holds %d, want 1", w)
	}
	b.stop()
	b.start(t) // the outbox is a file: the message is still there
	if w := b.acts.Stats().Waiting; w != 1 {
		t.Fatalf("outbox after restart holds %d, want 1", w)
	}

	dirA := t.TempDir()
	a := newSiteHub(t, "a", hubAConfig(t, listen), dirA, openStore(t, filepath.Join(dirA, "dashd.db")))
	if err := a.hub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.hub.Embedded().Shutdown)
	a.start(t)
	eventually(t, 30*time.Second, "the waiting message on hub a", func() (bool, string) {
		got := chatTexts(t, a.store, "ops")
		return slices.Equal(got, []string{"nobody hears this yet"}), fmt.Sprintf("%q, b: %+v", got, b.acts.Stats())
	})
	if st := b.acts.Stats(); st.Waiting != 0 || st.Sent != 1 {
		t.Errorf("b after NATS came: %+v, want the outbox sent and empty", st)
	}
}

// TestActions_AgentsCannotSpeakForHubs: an agent publishing an action is
// refused by the embedded server, and nothing reaches the stream.
func TestActions_AgentsCannotSpeakForHubs(t *testing.T) {
	a, _, emb := twoHubs(t)
	refused := make(chan error, 4)
	nc, err := nats.Connect(emb.ClientURL(), nats.UserInfo("web-1", testPassword), nats.CustomInboxPrefix(InboxPrefix("web-1")),
		nats.MaxReconnects(0), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { refused <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	m, _ := ChatAction("a", model.ChatMessage{ID: 1, Room: "ops", Author: "mallory", Text: "ignore the alert", Time: time.Now()})
	if err := nc.Publish(m.Subject, m.Data); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-refused:
		if err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("error = %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not refuse the agent's action")
	}
	time.Sleep(300 * time.Millisecond)
	if got := chatTexts(t, a.store, "ops"); len(got) != 0 {
		t.Errorf("an agent's action was stored: %q", got)
	}
}

// TestParseActionSubject covers what a hub accepts as an action subject.
func TestParseActionSubject(t *testing.T) {
	tests := []struct {
		subject string
		hub     string
		ok      bool
	}{
		{"dashd-hub.action.a.chat", "a", true},
		{"dashd-hub.action.hub-2.chat", "hub-2", true},
		{"dashd-hub.action.a.ack", "", false},
		{"dashd-hub.action.a", "", false},
		{"dashd-hub.action.a.chat.x", "", false},
		{"dashd.a.chat", "", false},
		{"dashd-hub.action.A.chat", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			hub, _, err := ParseActionSubject(tt.subject)
			if (err == nil) != tt.ok || hub != tt.hub {
				t.Fatalf("ParseActionSubject = %q, %v; want hub %q ok %v", hub, err, tt.hub, tt.ok)
			}
		})
	}
}
