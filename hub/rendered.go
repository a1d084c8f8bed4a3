package hub

import (
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// # What the page already has
//
// A page is rendered with its full state, and its stream's OnConnect then
// sends the full state again (it must: a reconnect hours later needs it).
// On the first connect, moments after the render, most of that is what
// the page already shows: for the dashboard, ~6 KB of the first load's
// ~40 KB on the wire. So a page handler can record what it rendered
// (Remember: the events that would bring a stream to the rendered state)
// and pass the token to its stream (WithRendered), whose OnConnect then
// leaves out every element patch identical to one recorded. The rest
// (signals, anything that changed since the render) is sent as always.
//
// A token is used once: the stream's reconnects (the client retries with
// the same URL) get everything, since by then the page has applied updates
// the record does not know. Tokens are kept for rememberTTL, at most
// rememberMax of them (the oldest go first): bounded whatever clients do,
// and a token not found only means the full state, never a wrong page.

const (
	// rememberTTL is how long a page's record waits for its stream.
	rememberTTL = time.Minute
	// rememberMax bounds the records kept.
	rememberMax = 256
)

// renderedSet is what one page was rendered with: the hashes of the
// element patches that would bring a stream to it.
type renderedSet struct {
	at     time.Time
	hashes map[uint64]struct{}
}

// remembered holds the records of recent renders (Hub.remembered).
type remembered struct {
	seed  maphash.Seed
	mu    sync.Mutex
	sets  map[string]renderedSet
	order []string // tokens, oldest first; may hold tokens already taken
}

func newRemembered() *remembered {
	return &remembered{seed: maphash.MakeSeed(), sets: make(map[string]renderedSet)}
}

// Remember records the element patches among events (what brings a stream
// to the page just rendered, as the stream's OnConnect would send it) and
// returns a token for the page's stream (WithRendered). Other kinds of
// events are always sent, and are not recorded.
func (h *Hub) Remember(events ...Event) string {
	r := h.remembered
	set := renderedSet{at: time.Now(), hashes: make(map[uint64]struct{}, len(events))}
	for i := range events {
		if hash, ok := r.hash(&events[i]); ok {
			set.hashes[hash] = struct{}{}
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	token := hex.EncodeToString(b[:])

	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.sets) >= rememberMax || (len(r.order) > 0 && time.Since(r.sets[r.order[0]].at) > rememberTTL) {
		delete(r.sets, r.order[0])
		r.order = r.order[1:]
	}
	if len(r.order) > 4*rememberMax { // taken tokens pile up: compact
		kept := make([]string, 0, len(r.sets))
		for _, tk := range r.order {
			if _, ok := r.sets[tk]; ok {
				kept = append(kept, tk)
			}
		}
		r.order = kept
	}
	r.sets[token] = set
	r.order = append(r.order, token)
	return token
}

// take returns the record of token and forgets it; nil when unknown or
// expired.
func (r *remembered) take(token string) map[uint64]struct{} {
	if token == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set, ok := r.sets[token]
	if !ok {
		return nil
	}
	delete(r.sets, token)
	if time.Since(set.at) > rememberTTL {
		return nil
	}
	return set.hashes
}

// hash identifies an element patch by its wire bytes; ok is false for
// other events and events that do not encode.
func (r *remembered) hash(e *Event) (uint64, bool) {
	if e.kind != kindPatchElements || e.err != nil {
		return 0, false
	}
	b, err := appendEvent(nil, e)
	if err != nil {
		return 0, false
	}
	return maphash.Bytes(r.seed, b), true
}

// without returns events less the element patches in set.
func (r *remembered) without(events []Event, set map[uint64]struct{}) []Event {
	if len(set) == 0 {
		return events
	}
	out := make([]Event, 0, len(events))
	for i := range events {
		if hash, ok := r.hash(&events[i]); ok {
			if _, have := set[hash]; have {
				continue
			}
		}
		out = append(out, events[i])
	}
	return out
}

// WithRendered passes the stream the token of what its page was rendered
// with (Hub.Remember): its OnConnect hooks then leave out the element
// patches the page already has, on this connect only. An unknown, used or
// expired token (a reconnect, a page older than a minute) changes nothing.
func WithRendered(token string) ClientOption {
	return func(c *clientConfig) { c.rendered = strings.Clone(token) }
}
