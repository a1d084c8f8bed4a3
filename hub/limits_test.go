package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// refusedResponse is what a client got for a stream the hub refused.
type refusedResponse struct {
	status     int
	retryAfter string
	body       string
}

// refused fetches /events?query expecting a refusal (any non-200 answer).
func (e *env) refused(t *testing.T, query string) refusedResponse {
	t.Helper()
	resp, err := e.client.Get(e.base + "/events?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	// The refusal must end abruptly (no final chunk): the pinned client
	// retries a stream only then.
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the refusal: %v, want the abrupt end that makes the client retry", err)
	}
	return refusedResponse{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(body)}
}

func TestHub_StreamCaps(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		open      []string // queries of the streams that are admitted
		refuse    string   // query of the stream beyond the cap
		message   string   // in the 503 body
		retry     string   // Retry-After
		wantTotal uint64
		wantAddr  uint64
		again     string // after closing the first stream, this is admitted
	}{
		{
			name:      "total",
			opts:      []Option{WithMaxStreams(3)},
			open:      []string{q("addr", "192.0.2.1"), q("addr", "192.0.2.2"), q("addr", "192.0.2.3")},
			refuse:    q("addr", "192.0.2.4"),
			message:   "limit of 3 live streams;",
			retry:     "5",
			wantTotal: 1,
			again:     q("addr", "192.0.2.4"),
		},
		{
			name:     "per address",
			opts:     []Option{WithMaxStreamsPerAddress(2), WithRetryAfter(1500 * time.Millisecond)},
			open:     []string{q("addr", "192.0.2.1"), q("addr", "192.0.2.1"), q("addr", "192.0.2.2")},
			refuse:   q("addr", "192.0.2.1"),
			message:  "limit of 2 live streams from one address (192.0.2.1)",
			retry:    "2",
			wantAddr: 1,
			again:    q("addr", "192.0.2.1"),
		},
		{
			// One spelling per IP: the mapped form counts as the same address.
			name:     "per address, IPv4-mapped spelling",
			opts:     []Option{WithMaxStreamsPerAddress(1)},
			open:     []string{q("addr", "192.0.2.1")},
			refuse:   q("addr", "::ffff:192.0.2.1"),
			message:  "from one address (192.0.2.1)",
			retry:    "5",
			wantAddr: 1,
			again:    q("addr", "::ffff:192.0.2.1"),
		},
		{
			// Without WithAddress the TCP peer's IP counts, not ip:port:
			// every connection of this test has its own port.
			name:     "per address, default is the peer IP",
			opts:     []Option{WithMaxStreamsPerAddress(2)},
			open:     []string{"", ""},
			refuse:   "",
			message:  "from one address (127.0.0.1)",
			retry:    "5",
			wantAddr: 1,
			again:    "",
		},
		{
			name:      "both caps, total reached first",
			opts:      []Option{WithMaxStreams(2), WithMaxStreamsPerAddress(2)},
			open:      []string{q("addr", "192.0.2.1"), q("addr", "192.0.2.2")},
			refuse:    q("addr", "192.0.2.3"),
			message:   "limit of 2 live streams;",
			retry:     "5",
			wantTotal: 1,
			again:     q("addr", "192.0.2.3"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A short heartbeat: a closed stream is noticed at the next write.
			e := newEnv(t, append(tt.opts, WithHeartbeat(20*time.Millisecond)), nil)
			streams := make([]*stream, len(tt.open))
			for i, query := range tt.open {
				streams[i] = e.open(t, query)
			}
			r := e.refused(t, tt.refuse)
			if r.status != http.StatusServiceUnavailable || r.retryAfter != tt.retry || !strings.Contains(r.body, tt.message) {
				t.Errorf("refusal: status %d, Retry-After %q, body %q; want 503, %q, a body saying %q",
					r.status, r.retryAfter, r.body, tt.retry, tt.message)
			}
			st := e.hub.Stats()
			if st.RefusedTotal != tt.wantTotal || st.RefusedPerAddress != tt.wantAddr || st.Clients != len(tt.open) || st.Connects != uint64(len(tt.open)) {
				t.Errorf("Stats() = %+v, want RefusedTotal %d, RefusedPerAddress %d, %d clients and connects",
					st, tt.wantTotal, tt.wantAddr, len(tt.open))
			}
			// Streams keep working at the cap.
			e.hub.Broadcast(PatchElements(frag("x", "at the cap")))
			for _, s := range streams {
				s.expectFragment(t, frag("x", "at the cap"))
			}
			// A stream that ends frees its slot.
			streams[0].close()
			eventually(t, "closed stream uncounted", func() bool { return e.hub.ClientCount() == len(tt.open)-1 })
			e.open(t, tt.again)
		})
	}
}

// TestHub_StreamCapCountsExactUnderChurn connects and disconnects streams
// from several goroutines at once, in every way a stream can end (client
// hang-up, eviction of a client that stopped reading, a panicking OnConnect
// hook) while a broadcaster floods them, with caps low enough to be hit all
// the time. Afterwards every count must be exact: the hub's connect and
// refusal counters match what the clients saw, the per-address counts are
// exactly those of the streams still open, and both caps still admit exactly
// up to their limit.
func TestHub_StreamCapCountsExactUnderChurn(t *testing.T) {
	const total, perAddr = 7, 3
	e := newEnv(t, []Option{
		WithMaxStreams(total), WithMaxStreamsPerAddress(perAddr),
		WithQueueBytes(16 << 10), WithWriteTimeout(2 * time.Second), WithHeartbeat(20 * time.Millisecond),
	}, nil)

	var (
		mu                                       sync.Mutex
		admitted, panicked, refTotal, refPerAddr int
	)
	tally := func(status int, body string) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case status == http.StatusOK:
			admitted++
		case status == http.StatusInternalServerError:
			panicked++
		case status == http.StatusServiceUnavailable && strings.Contains(body, "from one address"):
			refPerAddr++
		case status == http.StatusServiceUnavailable && strings.Contains(body, "live streams;"):
			refTotal++
		default:
			return fmt.Errorf("unexpected answer %d %q", status, body)
		}
		return nil
	}

	// One address holds its cap throughout (in a quiet room), which leaves
	// the churn fewer slots than it has workers: the total cap is hit.
	const held = "192.0.2.9"
	for range perAddr {
		e.open(t, q("room", "quiet", "addr", held))
		_ = tally(http.StatusOK, "")
	}
	r := e.refused(t, q("addr", held))
	if err := tally(r.status, r.body); err != nil || r.status != http.StatusServiceUnavailable {
		t.Fatalf("stream %d from one address: %d %q (%v), want a 503", perAddr+1, r.status, r.body, err)
	}

	ctx, stopBroadcast := context.WithCancel(context.Background())
	var broadcaster sync.WaitGroup
	broadcaster.Add(1)
	go func() {
		defer broadcaster.Done()
		payload := strings.Repeat("x", 4<<10)
		for i := 0; ctx.Err() == nil; i++ {
			e.hub.BroadcastToRoom("r", PatchElements(fmt.Sprintf(`<div id="x">%d %s</div>`, i, payload)))
			time.Sleep(time.Millisecond)
		}
	}()

	addrs := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}
	var workers sync.WaitGroup
	for w := range 6 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 12 {
				// Two addresses compete for the four free slots.
				query := q("room", "r", "addr", addrs[(w+i)%2])
				var err error
				switch i % 4 {
				case 0, 1: // reads a little, hangs up
					err = churnReader(e, query, tally)
				case 2: // stops reading: evicted by the broadcaster's flood
					err = churnStuck(e, query, tally)
				case 3: // its OnConnect hook panics
					err = churnReader(e, query+"&panic=1", tally)
				}
				if err != nil {
					t.Errorf("worker %d, round %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	workers.Wait()
	stopBroadcast()
	broadcaster.Wait()

	eventually(t, "every churn stream ended", func() bool {
		st := e.hub.Stats()
		return st.Clients == perAddr && st.Disconnects == st.Connects-perAddr && st.QueuedBytes == 0
	})
	st := e.hub.Stats()
	mu.Lock()
	want := fmt.Sprintf("connects %d, refused total %d, refused per address %d", admitted+panicked, refTotal, refPerAddr)
	mu.Unlock()
	got := fmt.Sprintf("connects %d, refused total %d, refused per address %d", st.Connects, st.RefusedTotal, st.RefusedPerAddress)
	if got != want {
		t.Errorf("hub counted %s; clients saw %s", got, want)
	}
	t.Logf("clients saw %s, %d panics; %d evictions", want, panicked, st.Evictions)
	if st.RefusedTotal == 0 || st.Evictions == 0 || panicked == 0 {
		t.Errorf("the churn did not hit the total cap, evict and panic: %+v, %d panics", st, panicked)
	}
	e.hub.mu.RLock()
	left := fmt.Sprint(e.hub.perAddr)
	e.hub.mu.RUnlock()
	if want := fmt.Sprintf("map[%s:%d]", held, perAddr); left != want {
		t.Errorf("per-address counts after the churn: %s, want %s", left, want)
	}

	// Both caps admit exactly up to their limit.
	for range perAddr {
		e.open(t, q("addr", addrs[0]))
	}
	if r := e.refused(t, q("addr", addrs[0])); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "from one address") {
		t.Errorf("stream %d from one address: %d %q, want a 503 at the per-address cap", perAddr+1, r.status, r.body)
	}
	e.open(t, q("addr", addrs[1])) // the last of the total
	if r := e.refused(t, q("addr", addrs[2])); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "live streams;") {
		t.Errorf("stream %d: %d %q, want a 503 at the total cap", total+1, r.status, r.body)
	}
}

// churnReader opens a stream, reads its head and some of it, and hangs up;
// a refusal or a 500 is tallied as it is.
func churnReader(e *env, query string, tally func(int, string) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/events?"+query, nil)
	if err != nil {
		return err
	}
	resp, err := e.client.Do(req)
	if errors.Is(err, io.EOF) {
		// Admitted, then evicted before its stream started (the flood
		// filled its queue first): the hub ends such a stream without a
		// word, and the browser client retries.
		return tally(http.StatusOK, "")
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return tally(resp.StatusCode, string(body))
	}
	if err := tally(http.StatusOK, ""); err != nil {
		return err
	}
	// The flood may evict this stream too before it read its share: an
	// abrupt end is fine, a hang is not.
	if _, err = io.ReadFull(resp.Body, make([]byte, 1024)); errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// churnStuck opens a stream over raw TCP, reads the status line and then
// nothing until the hub ends the stream (eviction: the broadcaster fills
// its queue), or hangs up after a while.
func churnStuck(e *env, query string, tally func(int, string) error) error {
	conn, err := net.DialTimeout("tcp", e.base[len("http://"):], testTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		return err
	}
	// Connection: close, so that a refusal ends with the connection.
	if _, err := fmt.Fprintf(conn, "GET /events?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", query); err != nil {
		return err
	}
	head := make([]byte, len("HTTP/1.1 200"))
	if _, err := io.ReadFull(conn, head); errors.Is(err, io.EOF) {
		return tally(http.StatusOK, "") // admitted, evicted before its stream started
	} else if err != nil {
		return fmt.Errorf("stuck client: %w", err)
	}
	if string(head) != "HTTP/1.1 200" {
		// Refused: read the rest of the (small, complete) answer.
		rest, _ := io.ReadAll(io.LimitReader(conn, 4096))
		status := 0
		fmt.Sscanf(string(head), "HTTP/1.1 %d", &status)
		return tally(status, string(rest))
	}
	if err := tally(http.StatusOK, ""); err != nil {
		return err
	}
	// Not reading: wait until the hub counts an eviction of some client, or
	// give up on this one (the caps may keep the flood away from it).
	deadline := time.Now().Add(2 * time.Second)
	before := e.hub.Stats().Evictions
	for time.Now().Before(deadline) && e.hub.Stats().Evictions == before {
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// TestHub_AttachTimeoutUncounts: a stream whose connection fasthttp never
// hands over (here a later handler takes the hijack for itself) is dropped
// after the attach timeout and stops counting against its address.
func TestHub_AttachTimeoutUncounts(t *testing.T) {
	shortAttach := func(c *config) { c.attachTimeout = 100 * time.Millisecond }
	e := newEnv(t, []Option{WithMaxStreamsPerAddress(1), shortAttach}, func(app *fiber.App, h *Hub) {
		app.Get("/stolen", func(c *fiber.Ctx) error {
			if err := h.HandleSSE(c, WithAddress("192.0.2.9")); err != nil {
				return err
			}
			c.Context().Hijack(func(net.Conn) {}) // the hub's serve never runs
			return nil
		})
	})
	// No answer comes (the hub asked fasthttp for none): an error is
	// expected here, the point is what the hub counts afterwards.
	if resp, err := e.client.Get(e.base + "/stolen"); err == nil {
		resp.Body.Close()
	}
	eventually(t, "ghost stream dropped", func() bool {
		st := e.hub.Stats()
		return st.Clients == 0 && st.Disconnects == 1
	})
	// The address's only slot is free again.
	e.open(t, q("addr", "192.0.2.9"))
	if st := e.hub.Stats(); st.RefusedPerAddress != 0 || st.Connects != 2 {
		t.Errorf("Stats() = %+v, want 2 connects and no refusal", st)
	}
}
