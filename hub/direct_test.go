package hub

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHub_DirectAndQueuedWritesKeepOrder: broadcasts of mixed sizes reach
// every client whole and in order, whether the broadcast wrote the socket
// itself, left the rest of a frame to the client's goroutine, or queued
// whole frames behind it; split across several writers; from one
// broadcaster or several at once (each one's frames in its order, none cut
// into another's); and the counters add up exactly.
func TestHub_DirectAndQueuedWritesKeepOrder(t *testing.T) {
	for _, broadcasters := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d broadcasters", broadcasters), func(t *testing.T) {
			testWritesKeepOrder(t, broadcasters)
		})
	}
}

func testWritesKeepOrder(t *testing.T, broadcasters int) {
	split := func(c *config) { c.writers, c.minPerWriter = 3, 1 }
	e := newEnv(t, []Option{split, WithHeartbeat(time.Hour), WithWriteTimeout(time.Minute), WithQueueBytes(64 << 20)}, nil)

	// Three clients read as it comes; three have a small receive buffer
	// and start reading only after the last broadcast, so that their
	// sockets fill and writes go partial, then queued.
	const clients = 6
	conns := make([]net.Conn, clients)
	var heads int
	for i := range conns {
		rcvbuf := 0
		if i%2 == 1 {
			rcvbuf = 4096
		}
		var head []byte
		conns[i], head = e.rawClientHead(t, q("room", "r"), rcvbuf)
		heads += len(head)
	}
	eventually(t, "clients attached", func() bool { return e.hub.ClientCount() == clients })

	const frames = 40 // per broadcaster
	html := func(b, i int) string {
		size := []int{100, 48 << 10, 3 << 10, 150 << 10}[(i+b)%4]
		return fmt.Sprintf(`<div id="seq">%d %d %s</div>`, b, i, strings.Repeat("x", size))
	}
	var total int
	want := map[string][2]int{} // event payload -> broadcaster, sequence
	for b := range broadcasters {
		for i := range frames {
			p, err := Encode(PatchElements(html(b, i)))
			if err != nil {
				t.Fatal(err)
			}
			want[string(p)] = [2]int{b, i}
			total += len(chunk(p))
		}
	}

	got := make([][]byte, clients)
	errs := make([]error, clients)
	read := func(i int) {
		if err := conns[i].SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
			errs[i] = err
			return
		}
		got[i] = make([]byte, total)
		_, errs[i] = io.ReadFull(conns[i], got[i])
	}
	var readers, senders sync.WaitGroup
	for i := 0; i < clients; i += 2 {
		readers.Go(func() { read(i) })
	}
	for b := range broadcasters {
		senders.Go(func() {
			for i := range frames {
				e.hub.BroadcastToRoom("r", PatchElements(html(b, i)))
			}
		})
	}
	senders.Wait()
	for i := 1; i < clients; i += 2 {
		readers.Go(func() { read(i) })
	}
	readers.Wait()
	for i := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		next := make([]int, broadcasters) // each broadcaster's next sequence
		cr := &chunkReader{br: bufio.NewReader(bytes.NewReader(got[i]))}
		for n := 0; n < broadcasters*frames; n++ {
			p, err := cr.next()
			if err != nil {
				t.Fatalf("client %d, event %d: %v", i, n, err)
			}
			id, ok := want[string(p)]
			if !ok {
				t.Fatalf("client %d, event %d: %d bytes that no broadcast sent (cut or mixed): %.80q", i, n, len(p), p)
			}
			if id[1] != next[id[0]] {
				t.Fatalf("client %d, event %d: broadcaster %d's frame %d, want its frame %d", i, n, id[0], id[1], next[id[0]])
			}
			next[id[0]]++
		}
	}
	eventually(t, "everything counted and released", func() bool {
		st := e.hub.Stats()
		return st.EventsSent == uint64(clients*broadcasters*frames) && st.QueuedBytes == 0
	})
	if st, all := e.hub.Stats(), uint64(heads+clients*total); st.BytesWritten != all || st.Evictions != 0 {
		t.Errorf("Stats() = %+v, want %d bytes written and no eviction", st, all)
	}
}

// chunkReader reads an HTTP/1.1 chunked body, one chunk (one frame) at a
// time.
type chunkReader struct{ br *bufio.Reader }

func (r *chunkReader) next() ([]byte, error) {
	line, err := r.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
	if err != nil {
		return nil, fmt.Errorf("chunk size %q: %w", line, err)
	}
	p := make([]byte, size+2)
	if _, err := io.ReadFull(r.br, p); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(p, []byte("\r\n")) {
		return nil, fmt.Errorf("chunk of %d bytes not followed by CRLF", size)
	}
	return p[:size], nil
}

// TestHub_DirectWriteToGoneClient: a client that hung up is found by a
// broadcast's own write and removed, not counted as an eviction.
func TestHub_DirectWriteToGoneClient(t *testing.T) {
	e := newEnv(t, []Option{WithHeartbeat(time.Hour)}, nil)
	keep := e.open(t, q("room", "r"))
	gone := e.rawClient(t, q("room", "r"), 0)
	eventually(t, "clients attached", func() bool { return e.hub.ClientCount() == 2 })
	gone.Close()
	// The first write after the close may still be taken by the kernel;
	// the peer's reset fails a later one.
	for i := 0; e.hub.ClientCount() == 2; i++ {
		if i == 1000 {
			t.Fatal("gone client never removed")
		}
		e.hub.BroadcastToRoom("r", PatchElements(frag("x", fmt.Sprint(i))))
		keep.expectFragment(t, frag("x", fmt.Sprint(i)))
		time.Sleep(5 * time.Millisecond)
	}
	eventually(t, "gone client closed", func() bool { return e.hub.Stats().Disconnects == 1 })
	if st := e.hub.Stats(); st.Evictions != 0 || st.Clients != 1 {
		t.Errorf("Stats() = %+v, want 1 client and no eviction", st)
	}
}
