package hub

// CloseSession ends every stream of a session and returns how many it
// ended. A session that signs out, is revoked or expires must stop
// receiving at once: its open streams would otherwise keep pushing the
// dashboard to a browser that no longer has the right to it. The streams'
// browsers reconnect and are refused (or sent to sign in) by the server.
func (h *Hub) CloseSession(session string) int {
	if session == "" {
		return 0
	}
	h.mu.RLock()
	cs := make([]*client, 0, len(h.sessions[session]))
	for c := range h.sessions[session] {
		cs = append(cs, c)
	}
	h.mu.RUnlock()
	n := 0
	for _, c := range cs {
		if h.remove(c) {
			n++
			c.close()
		}
	}
	if n > 0 {
		h.log.Info("hub: session streams closed", "session", session, "streams", n)
	}
	return n
}
