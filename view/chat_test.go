package view

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
)

// TestChatRow_Origin: a message another hub of the site shares carries
// that hub's name to its line ("via hub-b"), escaped; one said here says
// nothing of the kind.
func TestChatRow_Origin(t *testing.T) {
	at := t0.Add(-time.Minute)
	tests := []struct {
		name string
		m    model.ChatMessage
		via  string // "" for no "via" at all
	}{
		{"said here", model.ChatMessage{ID: 1, Room: "ops", Time: at, Author: "ann", Text: "hi"}, ""},
		{"shared by hub-b", model.ChatMessage{ID: 2, Room: "ops", Time: at, Author: "bob", Text: "hello", Origin: "hub-b"}, "via hub-b"},
		{"escaped", model.ChatMessage{ID: 3, Room: "ops", Time: at, Author: "bob", Text: "x", Origin: "<b>hub</b>"}, "via &lt;b&gt;hub&lt;/b&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ChatRow(tt.m, t0)
			if r.Origin != tt.m.Origin || r.Author != tt.m.Author || r.Text != tt.m.Text || r.ID != tt.m.ID {
				t.Errorf("row %+v from %+v", r, tt.m)
			}
			b := sse(t, []hub.Event{ChatAppend(context.Background(), tt.m, t0)})
			switch {
			case tt.via == "" && bytes.Contains(b, []byte("via ")):
				t.Errorf("a message said here shows an origin:\n%s", b)
			case tt.via != "" && !bytes.Contains(b, []byte(tt.via)):
				t.Errorf("no %q in\n%s", tt.via, b)
			}
		})
	}
}
