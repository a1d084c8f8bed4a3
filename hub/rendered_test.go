package hub

import (
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestHub_RenderedLeftOutOnFirstConnectOnly: a stream given the token of
// its page's render gets only what differs from it (and every signal); a
// reconnect with the same token, or an unknown token, gets everything.
func TestHub_RenderedLeftOutOnFirstConnectOnly(t *testing.T) {
	state := func() []Event {
		return []Event{
			PatchElements(frag("a", "same")),
			PatchElements(frag("b", "changed")),
			PatchSignals(map[string]int{"n": 1}),
		}
	}
	e := newEnv(t, nil, func(app *fiber.App, h *Hub) {
		app.Get("/page", func(c *fiber.Ctx) error {
			return h.HandleSSE(c, WithRoom("r"), WithRendered(c.Query("have")), OnConnect(func(send func(...Event)) {
				send(state()...)
			}))
		})
	})
	rendered := e.hub.Remember(PatchElements(frag("a", "same")), PatchElements(frag("b", "before")),
		PatchSignals(map[string]int{"n": 1}))
	tests := []struct {
		name string
		have string
		want []string // the events the stream starts with
	}{
		{"first connect", rendered, []string{
			"datastar-merge-fragments fragments " + frag("b", "changed"),
			`datastar-merge-signals signals {"n":1}`,
		}},
		{"reconnect with the same token", rendered, []string{
			"datastar-merge-fragments fragments " + frag("a", "same"),
			"datastar-merge-fragments fragments " + frag("b", "changed"),
			`datastar-merge-signals signals {"n":1}`,
		}},
		{"unknown token", "0123456789abcdef01234567", []string{
			"datastar-merge-fragments fragments " + frag("a", "same"),
			"datastar-merge-fragments fragments " + frag("b", "changed"),
			`datastar-merge-signals signals {"n":1}`,
		}},
	}
	for _, tt := range tests { // in order: the first connect uses the token up
		t.Run(tt.name, func(t *testing.T) {
			s := e.openPath(t, "/page?have="+tt.have)
			for _, want := range tt.want {
				if got := s.next(t).String(); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			// Then live: the broadcast is the next event (nothing else came first).
			e.hub.BroadcastToRoom("r", PatchElements(frag("live", "1")))
			s.expectFragment(t, frag("live", "1"))
		})
	}
}

// TestHub_RememberBounded: records are bounded in number whatever the
// page loads; the oldest go first.
func TestHub_RememberBounded(t *testing.T) {
	h := New()
	first := h.Remember(PatchElements(frag("a", "1")))
	for range 3 * rememberMax {
		h.Remember(PatchElements(frag("a", "1")))
	}
	h.remembered.mu.Lock()
	n, order := len(h.remembered.sets), len(h.remembered.order)
	h.remembered.mu.Unlock()
	if n > rememberMax || order > 4*rememberMax+1 {
		t.Errorf("%d records, %d tokens in order; want at most %d and %d", n, order, rememberMax, 4*rememberMax+1)
	}
	if h.remembered.take(first) != nil {
		t.Error("the oldest record is still there")
	}
}
