package hub

import (
	"maps"
	"slices"
	"strings"
)

// Stats is a snapshot of the hub's gauges and counters. Counters count from
// New and never go down.
type Stats struct {
	Clients int            // streams connected now
	Rooms   map[string]int // streams per room, now
	// RoomKinds is Rooms summed per room kind (see RoomKind): a bounded
	// set, fit for a metric label where room names are not (one room per
	// incident, chat room or history page).
	RoomKinds   map[string]int
	Sessions    int   // distinct sessions with a stream, now
	QueuedBytes int64 // bytes of broadcasts queued for clients' goroutines or being written by them, now

	Connects          uint64 // streams accepted
	Disconnects       uint64 // streams that ended for any reason, evictions included
	Evictions         uint64 // clients dropped for being too slow (queue full, write timeout, not reading)
	NotReading        uint64 // of Evictions: peers that acknowledged nothing for the write timeout while bytes waited
	RefusedTotal      uint64 // streams refused (503) at the total cap, WithMaxStreams
	RefusedPerAddress uint64 // streams refused (503) at the per-address cap, WithMaxStreamsPerAddress
	Broadcasts        uint64 // Broadcast/BroadcastToRoom/SendToSession calls that had something to send
	EventsSent        uint64 // events written to client sockets, counted once per client
	BytesWritten      uint64 // bytes written to client sockets: headers, events, heartbeats, framing
	EncodeErrors      uint64 // sends that left out an event because it carried an error
}

// Stats returns a snapshot of the counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	s := Stats{
		Clients:  len(h.clients),
		Rooms:    make(map[string]int, len(h.rooms)),
		Sessions: len(h.sessions),
	}
	for r, set := range h.rooms {
		s.Rooms[r] = len(set)
	}
	h.mu.RUnlock()
	s.RoomKinds = roomKinds(s.Rooms)
	s.QueuedBytes = h.queuedBytes.Load()
	s.Connects = h.connects.Load()
	s.Disconnects = h.disconnects.Load()
	s.Evictions = h.evictions.Load()
	s.NotReading = h.notReading.Load()
	s.RefusedTotal = h.refusedTotal.Load()
	s.RefusedPerAddress = h.refusedAddr.Load()
	s.Broadcasts = h.broadcasts.Load()
	s.EventsSent = h.eventsSent.Load()
	s.BytesWritten = h.bytesWritten.Load()
	s.EncodeErrors = h.encodeErrors.Load()
	return s
}

// maxRoomKinds bounds the distinct kinds RoomKinds reports; rooms of
// further kinds count under "other".
const maxRoomKinds = 32

// RoomKind is the kind of a room, its name up to the first ':'
// ("check:web" and "check:db" are both "check", "incident:7" is
// "incident", "dashboard" is "dashboard"). A kind that is not 1 to 32
// characters of a-z, 0-9, '_' or '-' is "other": room names come from
// requests, and a metric label must not carry what a client typed.
func RoomKind(room string) string {
	kind, _, _ := strings.Cut(room, ":")
	if len(kind) == 0 || len(kind) > 32 {
		return "other"
	}
	for i := 0; i < len(kind); i++ {
		c := kind[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "other"
		}
	}
	return kind
}

// roomKinds sums streams per room kind, at most maxRoomKinds kinds plus
// "other" (the kinds are taken in name order, so the cut is stable).
func roomKinds(rooms map[string]int) map[string]int {
	out := make(map[string]int, 8)
	for _, r := range slices.Sorted(maps.Keys(rooms)) {
		k := RoomKind(r)
		if _, ok := out[k]; !ok && len(out) >= maxRoomKinds && k != "other" {
			k = "other"
		}
		out[k] += rooms[r]
	}
	return out
}
