package hub

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// bigFragment is a PatchElements fragment of about size bytes, numbered.
func bigFragment(i, size int) string {
	return fmt.Sprintf(`<div id="big">%d %s</div>`, i, strings.Repeat("abcdefghijklmnopqrstuvwxyz"[i%26:i%26+1], size))
}

// TestHub_StuckClientEvictedWithinWriteTimeout: a client that stops reading
// with a megabyte of updates pending is evicted within seconds of the write
// timeout. Without a bounded socket send buffer the kernel would take the
// whole megabyte (it grows the buffer of a stuck client to ~4 MB), no write
// would block, and the client would stay until some 40 minutes of updates
// had piled up.
func TestHub_StuckClientEvictedWithinWriteTimeout(t *testing.T) {
	const writeTimeout = time.Second
	var logs logBuffer
	e := newEnv(t, []Option{
		WithWriteTimeout(writeTimeout),
		WithQueueBytes(64 << 20), // only the write timeout may evict here
		WithLogger(logs.logger()),
	}, nil)
	e.stuckClient(t, q("room", "r"))
	eventually(t, "stuck client attached", func() bool { return e.hub.ClientCount() == 1 })

	start := time.Now()
	for i := range 16 { // 1 MiB
		e.hub.BroadcastToRoom("r", PatchElements(bigFragment(i, 64<<10)))
	}
	eventually(t, "stuck client evicted", func() bool { return e.hub.Stats().Evictions == 1 })
	took := time.Since(start)
	t.Logf("evicted %v after the updates (write timeout %v)", took, writeTimeout)
	if !strings.Contains(logs.String(), "reason=\"write timeout\"") {
		t.Errorf("eviction not logged as a write timeout:\n%s", logs.String())
	}
	eventually(t, "stuck client removed, its bytes released", func() bool {
		st := e.hub.Stats()
		return st.Clients == 0 && st.QueuedBytes == 0
	})
}

// TestHub_StuckClientQueueBoundedInBytes: the bytes waiting for a stuck
// client are counted while it is stuck, never exceed the queue budget, and
// it is evicted ("queue full") once a broadcast would take it over, long
// before a write timeout; then its bytes are released.
func TestHub_StuckClientQueueBoundedInBytes(t *testing.T) {
	const (
		budget = 512 << 10
		size   = 32 << 10
	)
	var logs logBuffer
	e := newEnv(t, []Option{
		WithWriteTimeout(time.Minute),
		WithQueueBytes(budget),
		WithLogger(logs.logger()),
	}, nil)
	e.stuckClient(t, q("room", "r"))
	eventually(t, "stuck client attached", func() bool { return e.hub.ClientCount() == 1 })

	var most int64
	sent := 0
	for e.hub.Stats().Evictions == 0 {
		if sent == 1000 { // 32 MB: far beyond the bounded socket and queue
			t.Fatalf("stuck client never evicted; most queued %d bytes", most)
		}
		e.hub.BroadcastToRoom("r", PatchElements(bigFragment(sent, size)))
		sent++
		// Let the stream goroutine take what it can, so that what is
		// counted is what the socket refused.
		time.Sleep(time.Millisecond)
		if b := e.hub.Stats().QueuedBytes; b > most {
			most = b
		}
	}
	t.Logf("evicted after %d updates of %d KiB; at most %d KiB queued", sent, size>>10, most>>10)
	if most < budget/2 || most > budget {
		t.Errorf("at most %d bytes queued for the stuck client, want it counted (> %d) and within the budget %d",
			most, budget/2, budget)
	}
	// The kernel holds little for it either (a bounded send buffer): well
	// under the ~4 MB an unbounded one grows to.
	if held := sent * size; held > 2<<20 {
		t.Errorf("%d KiB sent to the stuck client before it was evicted, want under 2 MiB", held>>10)
	}
	if !strings.Contains(logs.String(), "reason=\"queue full\"") {
		t.Errorf("eviction not logged as queue full:\n%s", logs.String())
	}
	eventually(t, "stuck client removed, its bytes released", func() bool {
		st := e.hub.Stats()
		return st.Clients == 0 && st.QueuedBytes == 0
	})
}

// TestHub_SlowReaderNotEvicted: a client on a slow link that keeps reading
// is not a stuck one. A broadcast that takes more than the write timeout to
// drain through the bounded send buffer reaches it whole; only a socket that
// takes nothing for the write timeout counts as stuck.
func TestHub_SlowReaderNotEvicted(t *testing.T) {
	const writeTimeout = 2 * time.Second // the daemon's
	// Small buffers on both ends make the kernel pass bytes on in small
	// steps, so every read below is progress the hub sees, however slowly
	// a loaded machine runs the reader.
	e := newEnv(t, []Option{WithWriteTimeout(writeTimeout), WithQueueBytes(4 << 20), WithSendBuffer(16 << 10)}, nil)
	conn := e.rawClient(t, q("room", "r"), 16<<10)
	eventually(t, "client attached", func() bool { return e.hub.ClientCount() == 1 })

	html := bigFragment(7, 256<<10)
	e.hub.BroadcastToRoom("r", PatchElements(html))
	// Read at most 64 KiB a second: the 256 KiB take four seconds, twice
	// the write timeout, to get through.
	const rate = 64 << 10
	start := time.Now()
	var got []byte
	buf := make([]byte, 8<<10)
	tail := []byte(strings.Repeat("h", 64) + "</div>") // the fragment's end
	for !bytes.Contains(got, tail) {
		if err := conn.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			t.Fatalf("stream ended after %d bytes and %v (evictions %d)", len(got), time.Since(start), e.hub.Stats().Evictions)
		}
		if err != nil {
			t.Fatal(err)
		}
		if ahead := time.Duration(len(got))*time.Second/rate - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
	t.Logf("%d KiB read in %v, write timeout %v", len(got)>>10, time.Since(start), writeTimeout)
	if st := e.hub.Stats(); st.Evictions != 0 || st.Clients != 1 {
		t.Errorf("Stats() = %+v, want the slow reader still connected", st)
	}
}
