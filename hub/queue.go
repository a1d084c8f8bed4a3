package hub

// A client's queue holds the frames broadcast to it that its stream
// goroutine has not taken yet. It is bounded in bytes (WithQueueBytes), not
// in frames: what a stuck client costs is the bytes it holds.
//
// client.queued counts the bytes the client holds: frames in the queue plus
// the batch its goroutine is writing. Every change to it is added to
// Hub.queuedBytes too, so the hub total stays exact:
//   - push adds a frame's bytes;
//   - the stream goroutine releases a batch once its write returned (sent or
//     failed);
//   - close drops what is still queued. After close nothing is pushed (push
//     checks closed under client.mu), so each frame is released once, by
//     whichever of the two took it out of the queue.

// push queues f for the client; it returns false, queuing nothing, when f
// would take the client over its byte budget: the caller evicts it. A client
// holding nothing takes f whatever its size, so one large broadcast does not
// evict every client.
func (c *client) push(f *frame) bool {
	n := int64(len(f.b))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return true // being torn down: nothing to queue, nobody to evict
	}
	if c.queued > 0 && c.queued+n > c.h.cfg.queueBytes {
		c.mu.Unlock()
		return false
	}
	c.q = append(c.q, f)
	c.queued += n
	c.mu.Unlock()
	c.h.queuedBytes.Add(n)
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return true
}

// take hands the stream goroutine everything queued and gives the queue
// spare (emptied by the caller) to fill next. The bytes stay counted until
// the goroutine releases them.
func (c *client) take(spare []*frame) []*frame {
	c.mu.Lock()
	defer c.mu.Unlock()
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
