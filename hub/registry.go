package hub

// remove takes c out of every index and uncounts it from its address; it
// reports whether c was still there, which makes removal idempotent: however
// many paths try to end a client (eviction, its stream ending, a panicking
// hook, the attach timeout), exactly one uncounts it.
func (h *Hub) remove(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return false
	}
	delete(h.clients, c)
	for _, r := range c.rooms {
		unindex(h.rooms, r, c)
		if h.rooms[r] == nil {
			delete(h.lastJoin, r)
		}
	}
	if c.session != "" {
		unindex(h.sessions, c.session, c)
	}
	if c.addr != "" {
		if n := h.perAddr[c.addr] - 1; n > 0 {
			h.perAddr[c.addr] = n
		} else {
			delete(h.perAddr, c.addr)
		}
	}
	return true
}

// add registers c unless the hub has stopped or a stream cap is reached, and
// says which; a refusal at a cap is counted.
func (h *Hub) add(c *client) refusal {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return refusedStopped
	}
	if h.cfg.maxStreams > 0 && len(h.clients) >= h.cfg.maxStreams {
		h.refusedTotal.Add(1)
		return refusedTotal
	}
	if h.cfg.maxPerAddr > 0 && c.addr != "" && h.perAddr[c.addr] >= h.cfg.maxPerAddr {
		h.refusedAddr.Add(1)
		return refusedPerAddress
	}
	h.nextID++
	c.id = h.nextID
	h.clients[c] = struct{}{}
	if len(h.clients) == 1 {
		// The first stream: Run's heartbeat timer may be asleep.
		select {
		case h.beat <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	for _, r := range c.rooms {
		index(h.rooms, r, c)
		h.lastJoin[r] = c.id
	}
	if c.session != "" {
		index(h.sessions, c.session, c)
	}
	if c.addr != "" {
		h.perAddr[c.addr]++
	}
	// Counted under the lock, before anything can end the client: Stats
	// never shows more disconnects than connects.
	h.connects.Add(1)
	return admitted
}

func index(m map[string]map[*client]struct{}, key string, c *client) {
	s := m[key]
	if s == nil {
		s = make(map[*client]struct{})
		m[key] = s
	}
	s[c] = struct{}{}
}

func unindex(m map[string]map[*client]struct{}, key string, c *client) {
	s := m[key]
	delete(s, c)
	if len(s) == 0 {
		delete(m, key)
	}
}

// LastJoin is the ID of the newest stream that joined room, 0 while none
// is in it. Stream IDs only grow, so it changes with every join (a
// reconnect included): a sender that keeps what it last sent a room and
// sends only the difference can tell that a stream has since started
// from a state of its own (its on-connect state) and send the whole.
func (h *Hub) LastJoin(room string) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.lastJoin[room]
}

// Sessions lists the sessions that have at least one stream open now, so a
// sender can reach exactly the live ones (a session with no stream would
// only be told on its next connect anyway, by the on-connect state).
func (h *Hub) Sessions() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.sessions))
	for id := range h.sessions {
		out = append(out, id)
	}
	return out
}

// ClientCount returns the number of connected streams.
func (h *Hub) ClientCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// RoomCounts returns the number of streams in each room that has any.
func (h *Hub) RoomCounts() map[string]int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[string]int, len(h.rooms))
	for r, s := range h.rooms {
		out[r] = len(s)
	}
	return out
}
