package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for New.
const (
	// DefaultHeartbeat is how often an idle stream gets a comment line, so
	// that a vanished client is noticed (a write is the only way to see it).
	DefaultHeartbeat = 15 * time.Second
	// DefaultQueueSize is how many broadcasts may wait for one client before
	// it counts as too slow and is evicted.
	DefaultQueueSize = 32
	// DefaultWriteTimeout bounds one write to a client socket.
	DefaultWriteTimeout = 10 * time.Second
)

// Option configures a Hub.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	heartbeat    time.Duration
	queueSize    int
	writeTimeout time.Duration
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithHeartbeat sets the heartbeat interval of idle streams; d <= 0 keeps
// DefaultHeartbeat.
func WithHeartbeat(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.heartbeat = d
		}
	}
}

// WithQueueSize sets how many broadcasts may be queued for one client before
// it is evicted; n <= 0 keeps DefaultQueueSize. Each slot costs a pointer: the
// bytes of a broadcast are shared by all clients.
func WithQueueSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.queueSize = n
		}
	}
}

// WithWriteTimeout bounds each write to a client; a client whose socket
// accepts nothing for that long is evicted. d <= 0 keeps DefaultWriteTimeout.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.writeTimeout = d
		}
	}
}

// Hub fans Datastar events out to long-lived SSE streams, grouped by rooms
// and sessions.
//
// # Lifecycle
//
// New builds the hub; Run drives heartbeats and, when its context ends, ends
// every stream and waits for their goroutines before it returns. Streams may
// connect before Run starts; after Run returned, HandleSSE answers 503.
// Because streams are taken over from fiber (hijacked), fiber's shutdown does
// not wait for them: stop the hub (cancel Run's context and wait for Run) as
// part of the server's shutdown.
//
// # Concurrency
//
// All methods are safe for concurrent use. Broadcasting never blocks on a
// client: each client has a bounded queue drained by its own goroutine, and a
// client whose queue is full is evicted (disconnected without a clean end, so
// the browser reconnects and gets fresh full state).
//
// Lock order: Hub.mu, then client.mu.
type Hub struct {
	cfg config
	log *slog.Logger

	running atomic.Bool
	stop    chan struct{} // closed when Run's context ends
	wg      sync.WaitGroup

	mu       sync.RWMutex
	stopped  bool
	nextID   uint64
	clients  map[*client]struct{}
	rooms    map[string]map[*client]struct{}
	sessions map[string]map[*client]struct{}

	ping *frame

	connects     atomic.Uint64
	disconnects  atomic.Uint64
	evictions    atomic.Uint64
	broadcasts   atomic.Uint64
	eventsSent   atomic.Uint64
	bytesWritten atomic.Uint64
	encodeErrors atomic.Uint64
}

// New returns a hub ready to accept streams; call Run to drive it.
func New(opts ...Option) *Hub {
	cfg := config{
		logger:       slog.New(slog.DiscardHandler),
		heartbeat:    DefaultHeartbeat,
		queueSize:    DefaultQueueSize,
		writeTimeout: DefaultWriteTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return &Hub{
		cfg:      cfg,
		log:      cfg.logger,
		stop:     make(chan struct{}),
		clients:  make(map[*client]struct{}),
		rooms:    make(map[string]map[*client]struct{}),
		sessions: make(map[string]map[*client]struct{}),
		ping:     newFrame([]byte(": ping\n\n"), 0, true),
	}
}

// Run sends heartbeats until ctx ends, then ends every stream, waits for
// their goroutines and returns nil. A hub runs once: a second call returns
// ErrAlreadyRunning.
func (h *Hub) Run(ctx context.Context) error {
	if !h.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	t := time.NewTicker(h.cfg.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.shutdown()
			return nil
		case <-t.C:
			h.deliver(h.ping, func() map[*client]struct{} { return h.clients })
		}
	}
}

// shutdown ends every stream and waits for the stream goroutines.
func (h *Hub) shutdown() {
	h.mu.Lock()
	h.stopped = true
	close(h.stop)
	all := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		all = append(all, c)
	}
	clear(h.clients)
	clear(h.rooms)
	clear(h.sessions)
	h.mu.Unlock()

	for _, c := range all {
		c.close()
	}
	h.wg.Wait()
	h.log.Info("hub stopped", "clients", len(all))
}

// Broadcast sends the events to every connected client.
func (h *Hub) Broadcast(events ...Event) {
	if f := h.encode(events); f != nil {
		h.deliver(f, func() map[*client]struct{} { return h.clients })
	}
}

// BroadcastToRoom sends the events to every client in room.
func (h *Hub) BroadcastToRoom(room string, events ...Event) {
	if f := h.encode(events); f != nil {
		h.deliver(f, func() map[*client]struct{} { return h.rooms[room] })
	}
}

// SendToSession sends the events to every stream of one session (all the
// tabs of one browser, say).
func (h *Hub) SendToSession(sessionID string, events ...Event) {
	if f := h.encode(events); f != nil {
		h.deliver(f, func() map[*client]struct{} { return h.sessions[sessionID] })
	}
}

// encode serialises the events once for all their recipients. Events that
// carry an error are logged and left out.
func (h *Hub) encode(events []Event) *frame {
	b, n, err := encodeEvents(nil, events)
	if err != nil {
		h.encodeErrors.Add(1)
		h.log.Error("hub: events not sent", "err", err)
	}
	if n == 0 {
		return nil
	}
	h.broadcasts.Add(1)
	return newFrame(b, n, false)
}

// deliver queues f for the clients that targets returns (called under the
// read lock). It never blocks: a client with a full queue is evicted after
// the lock is released.
func (h *Hub) deliver(f *frame, targets func() map[*client]struct{}) {
	var slow []*client
	h.mu.RLock()
	for c := range targets() {
		select {
		case c.queue <- f:
		default:
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		h.evict(c, "queue full")
	}
}

// evict drops a client that cannot keep up.
func (h *Hub) evict(c *client, reason string) {
	if !h.remove(c) {
		return // already gone
	}
	h.evictions.Add(1)
	h.log.Warn("hub: slow client evicted", "client", c.id, "remote", c.remote,
		"rooms", c.rooms, "session", c.session, "reason", reason, "queue", cap(c.queue))
	c.close()
}

// remove takes c out of every index; it reports whether c was still there,
// which makes removal idempotent.
func (h *Hub) remove(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return false
	}
	delete(h.clients, c)
	for _, r := range c.rooms {
		unindex(h.rooms, r, c)
	}
	if c.session != "" {
		unindex(h.sessions, c.session, c)
	}
	return true
}

// add registers c; it fails once the hub has stopped.
func (h *Hub) add(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.nextID++
	c.id = h.nextID
	h.clients[c] = struct{}{}
	for _, r := range c.rooms {
		index(h.rooms, r, c)
	}
	if c.session != "" {
		index(h.sessions, c.session, c)
	}
	return true
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

// Stats is a snapshot of the hub's gauges and counters. Counters count from
// New and never go down.
type Stats struct {
	Clients  int            // streams connected now
	Rooms    map[string]int // streams per room, now
	Sessions int            // distinct sessions with a stream, now

	Connects     uint64 // streams accepted
	Disconnects  uint64 // streams that ended for any reason, evictions included
	Evictions    uint64 // clients dropped for being too slow (queue full or write timeout)
	Broadcasts   uint64 // Broadcast/BroadcastToRoom/SendToSession calls that had something to send
	EventsSent   uint64 // events written to client sockets, counted once per client
	BytesWritten uint64 // bytes written to client sockets: headers, events, heartbeats, framing
	EncodeErrors uint64 // sends that left out an event because it carried an error
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
	s.Connects = h.connects.Load()
	s.Disconnects = h.disconnects.Load()
	s.Evictions = h.evictions.Load()
	s.Broadcasts = h.broadcasts.Load()
	s.EventsSent = h.eventsSent.Load()
	s.BytesWritten = h.bytesWritten.Load()
	s.EncodeErrors = h.encodeErrors.Load()
	return s
}

// Encode returns the SSE bytes of the events as the pinned client expects
// them. It is what the hub writes (less the HTTP chunk framing); tests of
// other packages can use it to compare replies. Events that carry an error
// are left out and their errors joined.
func Encode(events ...Event) ([]byte, error) {
	b, _, err := encodeEvents(nil, events)
	return b, err
}

// encodeEvents appends the events to dst and returns how many were encoded.
func encodeEvents(dst []byte, events []Event) ([]byte, int, error) {
	var errs []error
	n := 0
	for i := range events {
		e := &events[i]
		if err := e.Err(); err != nil {
			errs = append(errs, fmt.Errorf("event %d (%s): %w", i, e.kind, err))
			continue
		}
		var err error
		dst, err = appendEvent(dst, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("hub: event %d (%s): %w", i, e.kind, err))
			continue
		}
		n++
	}
	return dst, n, errors.Join(errs...)
}

// frame is the bytes of one broadcast, HTTP-chunk framed, shared read-only by
// every client that receives it.
type frame struct {
	b      []byte
	events int  // Datastar events inside, for the counters
	ping   bool // heartbeat: skipped by a stream that wrote recently
}

func newFrame(payload []byte, events int, ping bool) *frame {
	return &frame{b: chunk(payload), events: events, ping: ping}
}

// chunk wraps p in HTTP/1.1 chunked framing. Streams are chunked so that
// the hub can end one either cleanly (terminating chunk) or abruptly (close),
// and the beta.11 client only retries after an abrupt end.
func chunk(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	size := strconv.FormatInt(int64(len(p)), 16)
	b := make([]byte, 0, len(size)+2+len(p)+2)
	b = append(b, size...)
	b = append(b, "\r\n"...)
	b = append(b, p...)
	return append(b, "\r\n"...)
}
