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

	"github.com/dashd/dashd/internal/grid"
)

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
// client: it writes a client's socket itself only when the socket takes the
// bytes at once (see direct.go); anything else goes to the client's queue,
// bounded in bytes and drained by the client's own goroutine. A client
// whose queue is full, or whose peer acknowledges nothing for the write
// timeout while bytes wait (see progress.go), is evicted (disconnected
// without a clean end, so the browser reconnects and gets fresh full state).
// A broadcast returns once every recipient's bytes are written or queued.
//
// # Limits
//
// Streams may be capped in total and per client address (WithMaxStreams,
// WithMaxStreamsPerAddress); beyond a cap HandleSSE answers 503 with
// Retry-After and counts the refusal. A stream counts from the moment it is
// registered until it is removed from the indexes, whichever way it ends
// (client gone, eviction, a panicking hook, a connection never handed over,
// shutdown): both happen under Hub.mu, so the counts are exact.
//
// Lock order: Hub.mu, then client.mu.
type Hub struct {
	cfg config
	log *slog.Logger

	running atomic.Bool
	stop    chan struct{} // closed when Run's context ends
	wg      sync.WaitGroup
	// beat tells Run that a stream was added to a hub that had none: the
	// heartbeat timer runs only while streams are open, so a hub nobody
	// watches does not wake the process. beats counts the timer's
	// firings (tests).
	beat  chan struct{}
	beats atomic.Uint64

	mu       sync.RWMutex
	stopped  bool
	nextID   uint64
	clients  map[*client]struct{}
	rooms    map[string]map[*client]struct{}
	sessions map[string]map[*client]struct{}
	// lastJoin is, per room with streams, the ID of the newest stream
	// that joined it (see LastJoin).
	lastJoin map[string]uint64
	perAddr  map[string]int // streams per client address; only addresses with streams

	ping *frame

	remembered *remembered // what pages were rendered with; see rendered.go

	// queuedBytes is the sum of every client's queued bytes (client.queued):
	// each change to one is added here too.
	queuedBytes atomic.Int64

	// lists recycles the recipient lists of broadcasts (*[]*client).
	lists sync.Pool

	connects     atomic.Uint64
	disconnects  atomic.Uint64
	evictions    atomic.Uint64
	notReading   atomic.Uint64
	broadcasts   atomic.Uint64
	eventsSent   atomic.Uint64
	bytesWritten atomic.Uint64
	encodeErrors atomic.Uint64
	refusedTotal atomic.Uint64
	refusedAddr  atomic.Uint64
}

// New returns a hub ready to accept streams; call Run to drive it.
func New(opts ...Option) *Hub {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return &Hub{
		cfg:      cfg,
		log:      cfg.logger,
		stop:     make(chan struct{}),
		beat:     make(chan struct{}, 1),
		clients:  make(map[*client]struct{}),
		rooms:    make(map[string]map[*client]struct{}),
		sessions: make(map[string]map[*client]struct{}),
		lastJoin: make(map[string]uint64),
		perAddr:  make(map[string]int),
		ping:     newFrame([]byte(": ping\n\n"), 0, true),

		remembered: newRemembered(),
	}
}

// Run sends heartbeats until ctx ends, then ends every stream, waits for
// their goroutines and returns nil. A hub runs once: a second call returns
// ErrAlreadyRunning. The heartbeat timer runs only while streams are open:
// it stops when it finds none and the first new stream starts it again.
func (h *Hub) Run(ctx context.Context) error {
	if !h.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	t := time.NewTimer(h.untilBeat())
	defer t.Stop()
	beating := true
	for {
		select {
		case <-ctx.Done():
			h.shutdown()
			return nil
		case <-h.beat:
			if !beating {
				t.Reset(h.untilBeat())
				beating = true
			}
		case <-t.C:
			h.beats.Add(1)
			h.deliver(h.ping, func() map[*client]struct{} { return h.clients })
			// A stream added after this count signals beat.
			if beating = h.ClientCount() > 0; beating {
				t.Reset(h.untilBeat())
			}
		}
	}
}

// untilBeat is the wait for the next heartbeat, on the whole-second grid
// the sampler and the scheduler tick on: a beat at a moment of its own
// would wake an otherwise idle process once more.
func (h *Hub) untilBeat() time.Duration {
	now := time.Now()
	return grid.Next(now, h.cfg.heartbeat).Sub(now)
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
	clear(h.lastJoin)
	clear(h.sessions)
	clear(h.perAddr)
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

// deliver sends f to the clients that targets returns (called under the
// read lock, which is released before anything is written). It never waits
// on a client: it writes a socket only when the socket takes the bytes at
// once, and queues them otherwise; a client whose queue is full, or whose
// peer takes nothing, is evicted.
func (h *Hub) deliver(f *frame, targets func() map[*client]struct{}) {
	p, _ := h.lists.Get().(*[]*client)
	if p == nil {
		p = new([]*client)
	}
	cs := (*p)[:0]
	h.mu.RLock()
	for c := range targets() {
		cs = append(cs, c)
	}
	h.mu.RUnlock()
	if len(cs) > 0 {
		h.fanOut(f, cs)
	}
	clear(cs) // do not keep gone clients reachable
	*p = cs[:0]
	h.lists.Put(p)
}

// evict drops a client that cannot keep up.
func (h *Hub) evict(c *client, reason string) {
	if !h.remove(c) {
		return // already gone
	}
	h.evictions.Add(1)
	if reason == reasonNotReading {
		h.notReading.Add(1)
	}
	h.log.Warn("hub: slow client evicted", "client", c.id, "remote", c.remote, "address", c.addr,
		"rooms", c.rooms, "session", c.session, "reason", reason, "queued_bytes", c.queuedNow())
	c.close()
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

	// payload is the broadcast's SSE bytes (b without the chunk framing),
	// kept for gz; nil in the compressed twin and in a frame's rest.
	payload []byte
	gzOnce  sync.Once
	gz      *frame // the compressed twin, made by the first gzip stream that needs it
}

func newFrame(payload []byte, events int, ping bool) *frame {
	if len(payload) == 0 {
		return &frame{events: events, ping: ping}
	}
	b := chunk(payload)
	// The payload inside b, not the caller's copy: one copy stays reachable.
	p := b[len(b)-2-len(payload) : len(b)-2 : len(b)-2]
	return &frame{b: b, events: events, ping: ping, payload: p}
}

// wire returns the frame a stream writes: f itself for a plain stream, its
// compressed twin for a gzip one. The twin is compressed once, by the first
// gzip stream that needs it (concurrent senders wait for it), and shared by
// all the others; a broadcast that reaches no gzip stream is never
// compressed.
func (f *frame) wire(gzip bool) *frame {
	if !gzip || f.payload == nil {
		return f
	}
	f.gzOnce.Do(func() {
		f.gz = &frame{b: chunk(deflate(nil, f.payload)), events: f.events, ping: f.ping}
	})
	return f.gz
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
