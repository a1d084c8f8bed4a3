package hub

import (
	"syscall"
	"time"
)

// A client that stops reading is noticed by the bytes its socket holds, not
// by a write that blocks: at dashboard traffic (a couple of KiB a second) a
// write blocks only once the peer's receive buffer, our send buffer and the
// client's queue are all full, a minute or more after the client stopped.
// The kernel's count of unacknowledged bytes (SIOCOUTQ) tells sooner: a
// peer that reads acknowledges what it was sent, however slowly, so the
// bytes acknowledged keep growing; a peer that stopped reading, once its
// receive buffer is full, acknowledges nothing while bytes wait.
//
// # Cost
//
// A check is one ioctl. A stream whose socket held unacknowledged bytes at
// its last check is checked again after progressEvery; one whose socket was
// empty (what a reading client's is, a second after the last write) only
// after the quiet interval, which grows with the number of streams so that
// checks of healthy streams stay under progressBudget a second in all
// (10,000 streams: every 10 s), and never exceeds the heartbeat. Checks run
// where the stream is written (a broadcast or the stream goroutine), never
// on a timer of their own.

const (
	// defaultProgressEvery is how often a socket holding unacknowledged
	// bytes is checked.
	defaultProgressEvery = time.Second
	// progressBudget bounds the checks a second of streams whose socket was
	// empty at their last check, over all streams.
	progressBudget = 1000
)

// progress follows one stream's socket. It belongs to whoever holds the
// client's socket (client.busy): the stream goroutine or a direct writer.
type progress struct {
	rc      syscall.RawConn // the TCP socket; nil: not checked
	written int64           // bytes written to the stream's connection
	acked   int64           // most bytes acknowledged, as written - outq, seen at a check
	stalled time.Time       // the first check that found bytes waiting and none taken; zero: moving
	next    time.Time       // when the next check is due
}

// due reports whether a check is due at now.
func (p *progress) due(now time.Time) bool { return p.rc != nil && !now.Before(p.next) }

// check reads the socket's unacknowledged bytes and reports whether the
// peer took nothing for timeout while bytes waited. every and quiet are the
// pauses before the next check when bytes wait and when none do. A socket
// that cannot be asked (closed, say) is not checked again.
func (p *progress) check(now time.Time, timeout, every, quiet time.Duration) (stuck bool, outq int, err error) {
	outq, err = socketOutq(p.rc)
	if err != nil {
		p.rc = nil
		return false, 0, err
	}
	stuck = p.observe(now, outq, timeout)
	if outq > 0 {
		p.next = now.Add(every)
	} else {
		p.next = now.Add(quiet)
	}
	return stuck, outq, nil
}

// observe is the judgement of check, apart from the socket: outq bytes
// wait unacknowledged at now. The peer is stuck when two checks at least
// timeout apart found bytes waiting and nothing acknowledged since the
// first of them. Counting from that check, not from the last one that saw
// bytes taken, keeps a slow reader behind a small receive window (which
// acknowledges a window's worth at a time, every second or two at 1 KB/s)
// from being taken for a stuck one; a stuck peer is found within the
// timeout plus two check intervals of its last acknowledgment.
//
// Bytes acknowledged are written - outq: exact when the stream writes the
// socket itself. Through TLS, written counts plaintext and outq ciphertext,
// so the estimate falls by the record overhead as bytes are written; a
// stream then counts as moving only when its peer acknowledges more than
// that overhead, which any reading peer does.
func (p *progress) observe(now time.Time, outq int, timeout time.Duration) bool {
	acked := p.written - int64(outq)
	if outq == 0 || acked > p.acked {
		p.acked, p.stalled = max(p.acked, acked), time.Time{}
		return false
	}
	if p.stalled.IsZero() {
		p.stalled = now
		return false
	}
	return now.Sub(p.stalled) >= timeout
}

// reasonNotReading is the eviction reason of a peer that took nothing for
// the write timeout while bytes waited.
const reasonNotReading = "not reading"

// stuck runs a due progress check of c's socket; the caller holds the
// socket (c.busy).
func (h *Hub) stuck(c *client, now time.Time) bool {
	stuck, outq, err := c.prog.check(now, h.cfg.writeTimeout, h.cfg.progressEvery, h.quietCheck())
	if err != nil {
		h.log.Debug("hub: socket not checked", "client", c.id, "remote", c.remote, "err", err)
	}
	if stuck {
		h.log.Debug("hub: peer takes nothing", "client", c.id, "remote", c.remote, "unacked_bytes", outq,
			"since", c.prog.stalled)
	}
	return stuck
}

// quietCheck is the pause before checking again a stream whose socket was
// empty: one check a second per progressBudget streams, at least every
// progressEvery, at most every heartbeat.
func (h *Hub) quietCheck() time.Duration {
	n := int64(h.connects.Load() - h.disconnects.Load())
	d := time.Duration(max(n, 0)) * time.Second / progressBudget
	return min(max(d, h.cfg.progressEvery), max(h.cfg.heartbeat, h.cfg.progressEvery))
}
