package hub

// A client's queue holds the frames broadcast to it that could not be
// written straight to its socket (see direct.go) and that its stream
// goroutine has not taken yet. It is bounded in bytes (WithQueueBytes), not
// in frames: what a stuck client costs is the bytes it holds.
//
// client.queued counts the bytes the client holds: frames in the queue plus
// the batch its goroutine is writing. Every change to it is added to
// Hub.queuedBytes too, so the hub total stays exact:
//   - queueLocked adds a frame's bytes, requeueFirst the rest of a frame a
//     direct write left;
//   - the stream goroutine releases a batch once its write returned (sent or
//     failed);
//   - close drops what is still queued. After close nothing is queued (send
//     checks closed under client.mu), so each frame is released once, by
//     whichever of the two took it out of the queue.

// queueLocked queues f for the stream goroutine, with c.mu held; it returns
// false, queuing nothing, when f would take the client over its byte
// budget: the caller evicts it. A client holding nothing takes f whatever
// its size, so one large broadcast does not evict every client. The caller
// wakes the goroutine (wakeUp) after unlocking.
func (c *client) queueLocked(f *frame) bool {
	n := int64(len(f.b))
	if c.queued > 0 && c.queued+n > c.h.cfg.queueBytes {
		return false
	}
	c.q = append(c.q, f)
	c.queued += n
	c.h.queuedBytes.Add(n)
	return true
}

// requeueFirst puts the rest of a partly written frame first in the queue,
// with c.mu held, whatever the budget: it must go out before anything else.
func (c *client) requeueFirst(f *frame) {
	if c.closed {
		return
	}
	n := int64(len(f.b))
	c.q = append(c.q, nil)
	copy(c.q[1:], c.q)
	c.q[0] = f
	c.queued += n
	c.h.queuedBytes.Add(n)
}

// wakeUp tells the stream goroutine that something may be queued.
func (c *client) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// claim gives the socket to the stream goroutine if frames wait and nobody
// holds it; it reports whether the goroutine holds it now.
func (c *client) claim() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy || len(c.q) == 0 || c.closed {
		return false
	}
	c.busy = true
	return true
}

// takeOrRelease hands the stream goroutine, which holds the socket,
// everything queued and gives the queue spare (emptied by the caller) to
// fill next; with nothing queued it gives up the socket and returns nil.
// The bytes stay counted until the goroutine releases them.
func (c *client) takeOrRelease(spare []*frame) []*frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.q) == 0 {
		c.busy = false
		return nil
	}
	got := c.q
	c.q = spare[:0]
	return got
}

// release uncounts n bytes the stream goroutine is done with.
func (c *client) release(n int64) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	c.queued -= n
	c.mu.Unlock()
	c.h.queuedBytes.Add(-n)
}

// dropQueued uncounts and forgets the frames still queued; close calls it
// with c.mu held.
func (c *client) dropQueued() {
	var n int64
	for _, f := range c.q {
		n += int64(len(f.b))
	}
	c.q = nil
	c.queued -= n
	c.h.queuedBytes.Add(-n)
}

// queuedNow returns the bytes the client holds, for logs.
func (c *client) queuedNow() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued
}
