package fleet

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dashd/dashd/config"
)

// TestActions_AgentNamedHubCannotReadHubInbox: an agent whose host is
// "hub" may not subscribe under the inbox of the hubs that connect by URL
// (HubInboxPrefix), and its own inbox (InboxPrefix("hub"), the hubs' old
// one) hears nothing of what hub b fetches from the actions stream.
func TestActions_AgentNamedHubCannotReadHubInbox(t *testing.T) {
	fa := hubAConfig(t, "127.0.0.1:0")
	fa.Agents = append(fa.Agents, config.FleetAgent{Host: "hub", User: "hub", Password: testPassword})
	a, b, emb := twoHubsWith(t, fa)
	refused := make(chan error, 16)
	nc, err := nats.Connect(emb.ClientURL(), nats.UserInfo("hub", testPassword), nats.CustomInboxPrefix(InboxPrefix("hub")),
		nats.MaxReconnects(0), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { refused <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var seen []string
	tests := []struct {
		name    string
		subject string
		refused bool
	}{
		{"the hubs' inbox", HubInboxPrefix + ".>", true},
		{"its own inbox", InboxPrefix("hub") + ".>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := nc.Subscribe(tt.subject, func(m *nats.Msg) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, string(m.Data))
			}); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-refused:
				if !tt.refused || !strings.Contains(err.Error(), "Permissions Violation") {
					t.Errorf("subscribing to %s: %v (want refused: %v)", tt.subject, err, tt.refused)
				}
			case <-time.After(2 * time.Second):
				if tt.refused {
					t.Errorf("subscribing to %s was not refused", tt.subject)
				}
			}
		})
	}
	a.say(t, "ops", "secret plan for db-1")
	eventually(t, 20*time.Second, "the message on hub b", func() (bool, string) {
		got := chatTexts(t, b.store, "ops")
		return slices.Contains(got, "secret plan for db-1"), fmt.Sprint(got)
	})
	time.Sleep(time.Second) // anything b's fetch leaked would have arrived
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if strings.Contains(s, "secret plan") {
			t.Fatalf("the agent named hub read what hub b fetched: %q", s)
		}
	}
}
