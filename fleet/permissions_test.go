package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestPermissions_AgentLimitedToItsSubjects: web-1 may publish under
// dashd.web-1. only; its publish as db-1, its subscription to every
// host's subjects and a wrong password are refused, and nothing of it
// reaches the stream.
func TestPermissions_AgentLimitedToItsSubjects(t *testing.T) {
	f := hubConfig(t, "127.0.0.1:0")
	emb, err := StartEmbedded(EmbeddedOptions{Listen: f.NATS.Embedded.Listen, StoreDir: t.TempDir(), MaxStore: 64 << 20, Agents: f.Agents})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	hub, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	hjs, _ := jetstream.New(hub)
	ctx := context.Background()
	s, err := EnsureStream(ctx, hjs, f.Stream)
	if err != nil {
		t.Fatal(err)
	}

	refused := make(chan error, 16)
	connect := func(user, pass string) (*nats.Conn, error) {
		return nats.Connect(emb.ClientURL(), nats.UserInfo(user, pass), nats.CustomInboxPrefix(InboxPrefix(user)),
			nats.MaxReconnects(0), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { refused <- err }))
	}
	if nc, err := connect("web-1", "wrong-password-here"); err == nil {
		nc.Close()
		t.Fatal("a wrong password was let in")
	}
	nc, err := connect("web-1", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	own := SampleMessage("web-1", sampleAt(time.Now(), 1))
	if _, err := js.PublishMsg(pctx, &nats.Msg{Subject: own.Subject, Data: own.Data}); err != nil {
		t.Fatalf("publishing under its own subjects: %v", err)
	}
	tests := []struct {
		name string
		do   func() error
	}{
		{"publish as another host", func() error {
			m := SampleMessage("db-1", sampleAt(time.Now(), 2))
			return nc.Publish(m.Subject, m.Data)
		}},
		{"publish to the JetStream API", func() error { return nc.Publish("$JS.API.STREAM.DELETE."+StreamName, nil) }},
		{"subscribe to every host", func() error { _, err := nc.SubscribeSync("dashd.>"); return err }},
		{"subscribe to another agent's inbox", func() error { _, err := nc.SubscribeSync(InboxPrefix("db-1") + ".>"); return err }},
		// A request to itself would grant a reply to any subject it names
		// (here another host's samples): the request is refused, and the
		// stream count below shows nothing got through.
		{"request to its own history subject", func() error {
			sub, err := nc.SubscribeSync(HistorySubject("web-1"))
			if err != nil {
				return err
			}
			defer func() { _ = sub.Unsubscribe() }()
			m := SampleMessage("db-1", sampleAt(time.Now(), 3))
			if err := nc.PublishRequest(HistorySubject("web-1"), m.Subject, m.Data); err != nil {
				return err
			}
			if echo, err := sub.NextMsg(time.Second); err == nil {
				_ = nc.Publish(echo.Reply, m.Data)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); err != nil {
				t.Fatalf("client refused before sending: %v", err)
			}
			_ = nc.Flush()
			select {
			case err := <-refused:
				if err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
					t.Errorf("error = %v, want a permissions violation", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the server did not refuse it")
			}
		})
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want only web-1's own", info.State.Msgs)
	}
}
