package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
)

// TestActions_RefusedActionDoesNotWedgeTheOutbox: an action the stream
// refuses for good (over its message limit: caught here, or by the
// server once the headers are counted) is dropped and counted, and what
// was said after it still reaches the other hub.
func TestActions_RefusedActionDoesNotWedgeTheOutbox(t *testing.T) {
	a, b, _ := twoHubs(t)
	tests := []struct {
		name  string
		bytes int
	}{
		{"over the limit", maxActionMessage + 1},
		{"over the limit with its headers", maxActionMessage - 8},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			big := Message{Subject: ActionSubject("a", ActionChat), ID: fmt.Sprintf("a:big:%d", i),
				Data: []byte(`"` + strings.Repeat("x", tt.bytes-2) + `"`)}
			if err := a.acts.enqueue(big); err != nil {
				t.Fatal(err)
			}
			text := "after the big one " + tt.name
			a.say(t, "ops", text)
			eventually(t, 20*time.Second, "chat after the big action on b", func() (bool, string) {
				return slices.Contains(chatTexts(t, b.store, "ops"), text), fmt.Sprintf("%+v", a.acts.Stats())
			})
			if st := a.acts.Stats(); st.Dropped != uint64(i+1) || st.Waiting != 0 {
				t.Errorf("hub a: %+v, want %d dropped and nothing waiting", st, i+1)
			}
		})
	}
}

// TestActions_StormIncidentActionIsShared: an action on an incident of
// 3,000 checks (a storm) is shared, its Ref held to MaxRefSubjects (the
// first ones), and what is said after it reaches the other hub.
func TestActions_StormIncidentActionIsShared(t *testing.T) {
	a, b, emb := twoHubs(t)
	var subs []string
	for i := range 3000 {
		subs = append(subs, fmt.Sprintf("check-%04d@web-%04d", i%20, i))
	}
	now := time.Now()
	a.acts.ShareIncident(incident.Shared{Kind: model.EntryAck, Ref: incident.Ref{Subjects: subs, Started: now},
		Incident: 1, Time: now, User: "alice"})
	a.say(t, "ops", "after the ack")
	eventually(t, 20*time.Second, "chat after the storm's ack on b", func() (bool, string) {
		return slices.Contains(chatTexts(t, b.store, "ops"), "after the ack"), fmt.Sprintf("%+v", a.acts.Stats())
	})
	if st := a.acts.Stats(); st.Sent != 2 || st.Dropped != 0 {
		t.Errorf("hub a: %+v, want both sent", st)
	}
	js := testJetStream(t, emb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, ActionsStreamName)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream.GetLastMsgForSubject(ctx, ActionSubject("a", ActionIncident))
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := DecodeIncidentAction("a", raw.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ref.Subjects) != incident.MaxRefSubjects || got.Ref.Subjects[0] != subs[0] {
		t.Errorf("shared Ref names %d subjects from %q, want the first %d", len(got.Ref.Subjects), got.Ref.Subjects[0], incident.MaxRefSubjects)
	}
}
