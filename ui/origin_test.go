package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

// TestOrigin_Rendered: a chat line, an incident timeline entry and a
// silence that another hub of the site shared say "via <hub>" (muted,
// small, escaped); those made here say nothing of the kind.
func TestOrigin_Rendered(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		comp templ.Component
		want string // "" for no origin at all
	}{
		{"chat here", ChatMessage(ChatRow{ID: 1, At: at, Author: "ann", Text: "hi"}), ""},
		{"chat shared", ChatMessage(ChatRow{ID: 2, At: at, Author: "bob", Text: "hi", Origin: "hub-b"}),
			`<span class="msg-origin muted small">via hub-b</span>`},
		{"entry here", IncidentEntry(IncidentEntryRow{Seq: 1, At: at, Kind: "note", Label: "note", User: "ann", Text: "looking"}), ""},
		{"entry shared", IncidentEntry(IncidentEntryRow{Seq: 2, At: at, Kind: "ack", Label: "acknowledged", User: "bob", Origin: "hub-<b>"}),
			`<span class="ie-origin muted small">via hub-&lt;b&gt;</span>`},
		{"silence here", AlertsSilences([]SilenceRow{{ID: 1, Matchers: "checks web", Author: "ann", UntilAt: at}}), ""},
		{"silence shared", AlertsSilences([]SilenceRow{{ID: 2, Matchers: "checks db", Author: "bob", UntilAt: at, Origin: "hub-b"}}),
			`<span class="silence-origin muted small">via hub-b</span>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.comp.Render(context.Background(), &b); err != nil {
				t.Fatal(err)
			}
			html := b.String()
			switch {
			case tt.want == "" && strings.Contains(html, "origin"):
				t.Errorf("made here, yet an origin shows:\n%s", html)
			case tt.want != "" && !strings.Contains(html, tt.want):
				t.Errorf("no %s in\n%s", tt.want, html)
			}
		})
	}
}
