package hub

import (
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// # Direct writes
//
// A broadcast writes each recipient's socket itself, without waking the
// client's goroutine, when the client has nothing queued and nobody else is
// writing it: one non-blocking write(2), which a socket with room takes
// whole. Only what a socket does not take (the rest of a frame, then
// whatever follows it) goes through the client's queue to its stream
// goroutine, which waits for the socket under the write timeout. At 10,000
// streams this saves a goroutine wake-up, a select, a deadline reset and
// two lock round trips per stream and broadcast: most of what the hub cost
// above a bare loop of writes.
//
// The socket has one writer at a time: client.busy, set under client.mu,
// gives the socket (and the client's write-side state: progress, lastWrite)
// to a direct writer or to the stream goroutine. A direct writer that finds
// it taken, or bytes queued, queues instead, so the order of frames is kept.
//
// Direct writes need the plain TCP socket under the connection (not TLS,
// whose bytes must go through it); other connections always use the queue.
//
// A broadcast to many clients is split across up to GOMAXPROCS goroutines
// (at least defaultMinPerWriter clients each), which the broadcast waits for: it
// never waits on a client, but it takes the time of the writes.

// defaultMinPerWriter is the fewest clients worth a goroutine of their own
// in a broadcast.
const defaultMinPerWriter = 512

// sendResult is what send did for one client.
type sendResult struct {
	events, bytes int    // written to the socket by send itself
	evict         string // not "": evict the client for this reason
	gone          error  // not nil: the socket failed, the client went away
}

// send delivers f to c: straight to its socket when it can (see Direct
// writes), else through its queue. now is the broadcast's clock.
func (c *client) send(f *frame, now time.Time) sendResult {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return sendResult{} // being torn down: nothing to send, nobody to evict
	}
	if !c.direct || c.busy || len(c.q) > 0 {
		ok := c.queueLocked(f)
		c.mu.Unlock()
		if !ok {
			return sendResult{evict: "queue full"}
		}
		c.wakeUp()
		return sendResult{}
	}
	c.busy = true
	c.mu.Unlock()

	r := c.writeDirect(f, now)

	c.mu.Lock()
	c.busy = false
	wake := len(c.q) > 0 && !c.closed
	c.mu.Unlock()
	if wake { // queued meanwhile, or the rest of f: the goroutine's turn
		c.wakeUp()
	}
	return r
}

// writeDirect writes f to the socket without waiting; the caller holds the
// socket (c.busy). What the socket does not take is queued first.
func (c *client) writeDirect(f *frame, now time.Time) sendResult {
	h := c.h
	if c.prog.due(now) {
		if h.stuck(c, now) {
			return sendResult{evict: reasonNotReading}
		}
	}
	if f.ping && now.Sub(c.lastWrite) < h.cfg.heartbeat/2 {
		return sendResult{} // a heartbeat only matters on an idle stream
	}
	n, err := c.raw.writeNow(f.b)
	c.prog.written += int64(n)
	if n > 0 {
		c.lastWrite = now
	}
	r := sendResult{bytes: n}
	switch {
	case n == len(f.b):
		r.events = f.events
	case err == nil:
		// The socket is full: the rest, first in the queue, is the
		// goroutine's to write when the socket has room. Its events are
		// counted when it is written.
		c.mu.Lock()
		c.requeueFirst(&frame{b: f.b[n:], events: f.events})
		c.mu.Unlock()
	default:
		r.gone = err
	}
	return r
}

// rawWriter makes non-blocking writes to one socket through its RawConn
// (which keeps the descriptor open while it writes). It is allocated once
// per stream, with its callback, so that a write allocates nothing: a
// closure per write was most of what a broadcast allocated.
type rawWriter struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // w.write, bound once
	b   []byte
	n   int
	err syscall.Errno
}

func newRawWriter(rc syscall.RawConn) *rawWriter {
	w := &rawWriter{rc: rc}
	w.fn = w.write
	return w
}

// write is the RawConn callback: one write(2). It is a raw system call:
// the socket is non-blocking, so the call never waits, and the runtime's
// syscall bookkeeping (and its monitor thread's wake-ups while every P
// writes, one socket after another) was a tenth of a broadcast's cost.
func (w *rawWriter) write(fd uintptr) bool {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(w.b))), uintptr(len(w.b)))
	w.n, w.err = int(r), e
	return true // never wait for the socket: the stream goroutine does
}

// writeNow makes one non-blocking write of b. A full socket (EAGAIN) is
// not an error: it returns what was written.
func (w *rawWriter) writeNow(b []byte) (int, error) {
	w.b, w.n, w.err = b, 0, 0
	err := w.rc.Write(w.fn)
	w.b = nil
	switch {
	case err != nil: // closed, or the deadline with which close interrupts
		return 0, err
	case w.err == syscall.EAGAIN || w.err == syscall.EINTR:
		return 0, nil
	case w.err != 0:
		return 0, w.err
	}
	return w.n, nil
}

// fanOut sends f to every client in cs, split across goroutines when they
// are many, and then evicts or drops the clients that failed.
func (h *Hub) fanOut(f *frame, cs []*client) {
	parts := min(h.cfg.writers, (len(cs)+h.cfg.minPerWriter-1)/h.cfg.minPerWriter)
	if parts <= 1 {
		h.sendAll(f, cs)
		return
	}
	per := (len(cs) + parts - 1) / parts
	var wg sync.WaitGroup
	for i := per; i < len(cs); i += per {
		part := cs[i:min(i+per, len(cs))]
		wg.Go(func() { h.sendAll(f, part) })
	}
	h.sendAll(f, cs[:per])
	wg.Wait()
}

// sendAll sends f to each client in cs in turn.
func (h *Hub) sendAll(f *frame, cs []*client) {
	now := time.Now()
	var events, bytes uint64
	type failed struct {
		c      *client
		reason string
		gone   error
	}
	var fails []failed
	for _, c := range cs {
		r := c.send(f.wire(c.gzip), now)
		events += uint64(r.events)
		bytes += uint64(r.bytes)
		if r.evict != "" || r.gone != nil {
			fails = append(fails, failed{c, r.evict, r.gone})
		}
	}
	h.eventsSent.Add(events)
	h.bytesWritten.Add(bytes)
	for _, x := range fails {
		if x.reason != "" {
			h.evict(x.c, x.reason)
			continue
		}
		if h.remove(x.c) {
			h.log.Debug("hub: client gone", "client", x.c.id, "remote", x.c.remote, "reason", "write: "+x.gone.Error())
		}
		x.c.close()
	}
}
