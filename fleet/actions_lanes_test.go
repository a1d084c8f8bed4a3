package fleet

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
)

// TestActions_ChatNeverWaitsBehindIncidentActions: 300 incident actions
// that match nothing on hub b (more than a lane holds pending at once)
// wait for their incident for a minute; a chat message and a silence
// published after them are handled at once, and the incident actions are
// still being tried.
func TestActions_ChatNeverWaitsBehindIncidentActions(t *testing.T) {
	_, b, emb := twoHubsWith(t, hubAConfig(t, "127.0.0.1:0"), func(o *ActionsOptions) {
		o.LaterDelay, o.LaterFor = 5*time.Second, time.Minute
	})
	js := testJetStream(t, emb)
	start := time.Now()
	for i := range 300 {
		m, err := IncidentAction("c", incident.Shared{Kind: model.EntryAck, Ref: incident.Ref{Subjects: []string{fmt.Sprintf("http@gone-%d", i)},
			Started: start}, Incident: uint64(i + 1), Time: start, User: "carol"})
		if err != nil {
			t.Fatal(err)
		}
		publishAs(t, js, m, m.ID)
	}
	eventually(t, 20*time.Second, "incident actions put back", func() (bool, string) {
		st := b.acts.Stats()
		return st.Retried >= 256, fmt.Sprintf("%+v", st)
	})
	chat, _ := ChatAction("c", model.ChatMessage{ID: 1, Room: "ops", Author: "carol", Text: "still there?", Time: time.Now()})
	publishAs(t, js, chat, chat.ID)
	eventually(t, 20*time.Second, "the chat message on b", func() (bool, string) {
		return slices.Contains(chatTexts(t, b.store, "ops"), "still there?"), fmt.Sprintf("%+v", b.acts.Stats())
	})
	if st := b.acts.Stats(); st.Unmatched != 0 {
		t.Errorf("hub b: %+v: incident actions dropped before LaterFor", st)
	}
}
