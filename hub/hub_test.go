package hub

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHub_RoomIsolation(t *testing.T) {
	e := newEnv(t, nil, nil)
	a := e.open(t, q("room", "a"))
	b := e.open(t, q("room", "b"))

	e.hub.BroadcastToRoom("a", PatchElements(frag("x", "for a")))
	e.hub.BroadcastToRoom("b", PatchElements(frag("x", "for b")))
	e.hub.BroadcastToRoom("nobody", PatchElements(frag("x", "for nobody")))
	e.hub.Broadcast(PatchElements(frag("x", "all")))

	// Each stream sees its own room's event, then the broadcast: nothing of
	// the other room in between.
	a.expectFragment(t, frag("x", "for a"))
	a.expectFragment(t, frag("x", "all"))
	b.expectFragment(t, frag("x", "for b"))
	b.expectFragment(t, frag("x", "all"))
}

func TestHub_SessionTargeting(t *testing.T) {
	e := newEnv(t, nil, nil)
	tab1 := e.open(t, q("session", "s1", "room", "r"))
	tab2 := e.open(t, q("session", "s1", "room", "r"))
	other := e.open(t, q("session", "s2", "room", "r"))

	e.hub.SendToSession("s1", PatchElements(frag("toast", "hello s1")))
	e.hub.BroadcastToRoom("r", PatchElements(frag("x", "room")))

	tab1.expectFragment(t, frag("toast", "hello s1"))
	tab2.expectFragment(t, frag("toast", "hello s1"))
	tab1.expectFragment(t, frag("x", "room"))
	tab2.expectFragment(t, frag("x", "room"))
	other.expectFragment(t, frag("x", "room"))

	if got := e.hub.Stats().Sessions; got != 2 {
		t.Errorf("Stats().Sessions = %d, want 2", got)
	}
}

func TestHub_MultiRoomMembership(t *testing.T) {
	e := newEnv(t, nil, nil)
	both := e.open(t, q("room", "a", "room", "b", "room", "a"))
	onlyB := e.open(t, q("room", "b"))

	e.hub.BroadcastToRoom("a", PatchElements(frag("x", "a")))
	e.hub.BroadcastToRoom("b", PatchElements(frag("x", "b")))

	both.expectFragment(t, frag("x", "a"))
	both.expectFragment(t, frag("x", "b"))
	onlyB.expectFragment(t, frag("x", "b"))

	got := e.hub.RoomCounts()
	if len(got) != 2 || got["a"] != 1 || got["b"] != 2 {
		t.Errorf("RoomCounts() = %v, want map[a:1 b:2]", got)
	}
	if n := e.hub.ClientCount(); n != 2 {
		t.Errorf("ClientCount() = %d, want 2", n)
	}
}

func TestHub_OnConnectStateFirst(t *testing.T) {
	e := newEnv(t, nil, nil)
	s := e.open(t, q("room", "r", "state", "full"))
	e.hub.BroadcastToRoom("r", PatchElements(frag("x", "update")))

	s.expectFragment(t, frag("state", "full"))
	s.expectFragment(t, frag("x", "update"))

	// The stream goroutine counts a write after it returned, which may be
	// after the client read it: wait for the count, do not race it.
	eventually(t, "both events counted", func() bool { return e.hub.Stats().EventsSent >= 2 })
	st := e.hub.Stats()
	if st.EventsSent != 2 || st.Connects != 1 || st.Broadcasts != 1 {
		t.Errorf("Stats() = %+v, want EventsSent 2, Connects 1, Broadcasts 1", st)
	}
}

func TestHub_Heartbeat(t *testing.T) {
	e := newEnv(t, []Option{WithHeartbeat(20 * time.Millisecond)}, nil)
	s := e.open(t, "")
	timeout := time.After(testTimeout)
	for {
		select {
		case ev := <-s.events:
			if ev.name == ":" && len(ev.data) == 1 && ev.data[0] == "ping" {
				return
			}
			t.Fatalf("unexpected event %q on an idle stream", ev)
		case <-timeout:
			t.Fatal("no heartbeat on an idle stream")
		}
	}
}

// TestHub_SlowClientEvicted: a client that never reads fills its socket and
// then its queue; it is evicted while a healthy client gets every event and
// the broadcaster never blocks.
func TestHub_SlowClientEvicted(t *testing.T) {
	// Room for three 64 KiB broadcasts: the healthy client holds at most
	// two (one it has read but whose write its goroutine has not yet
	// released, and the next).
	e := newEnv(t, []Option{WithQueueBytes(192 << 10), WithWriteTimeout(time.Minute)}, nil)
	healthy := e.open(t, q("room", "r"))

	// A raw TCP client with a tiny receive buffer that sends the request
	// and then never reads.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	slow, err := d.Dial("tcp", e.base[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /events?room=r HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "slow client registered", func() bool { return e.hub.ClientCount() == 2 })

	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	for i := 0; e.hub.Stats().Evictions == 0; i++ {
		if i == 2000 { // 128 MB: far beyond any socket buffer
			t.Fatal("slow client never evicted")
		}
		html := fmt.Sprintf(`<div id="big">%d %s</div>`, i, big)
		start := time.Now()
		e.hub.BroadcastToRoom("r", PatchElements(html))
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("broadcast blocked for %v", d)
		}
		healthy.expectFragment(t, html)
	}
	eventually(t, "slow client removed", func() bool { return e.hub.ClientCount() == 1 })
	e.hub.BroadcastToRoom("r", PatchElements(frag("x", "after")))
	healthy.expectFragment(t, frag("x", "after"))

	st := e.hub.Stats()
	if st.Evictions != 1 || st.Rooms["r"] != 1 {
		t.Errorf("Stats() = %+v, want 1 eviction and 1 client in room r", st)
	}
	eventually(t, "queued bytes released", func() bool { return e.hub.Stats().QueuedBytes == 0 })
}

// TestHub_DisconnectDetected: a client that goes away is noticed at the next
// write (heartbeat) and removed from every index.
func TestHub_DisconnectDetected(t *testing.T) {
	e := newEnv(t, []Option{WithHeartbeat(20 * time.Millisecond)}, nil)
	s := e.open(t, q("room", "a", "room", "b", "session", "s"))
	keep := e.open(t, q("room", "a"))
	s.close()
	eventually(t, "client removed", func() bool {
		st := e.hub.Stats()
		return st.Clients == 1 && st.Disconnects == 1 && st.Sessions == 0 &&
			len(st.Rooms) == 1 && st.Rooms["a"] == 1
	})
	e.hub.BroadcastToRoom("a", PatchElements(frag("x", "still here")))
	keep.expectFragment(t, frag("x", "still here"))
	if ev := e.hub.Stats().Evictions; ev != 0 {
		t.Errorf("Evictions = %d, want 0: a gone client is not a slow one", ev)
	}
}

// TestHub_Storm runs broadcasts, connects and disconnects at once; -race and
// the leak check in TestMain do the asserting, plus a clean count at the end.
func TestHub_Storm(t *testing.T) {
	// A queue deep enough that no storm client is evicted: evictions are
	// tested on their own, here a slow -race reader must not count as one.
	e := newEnv(t, []Option{WithHeartbeat(20 * time.Millisecond), WithQueueBytes(1 << 30)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for b := 0; b < 3; b++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				room := []string{"a", "b", "c"}[i%3]
				e.hub.BroadcastToRoom(room, PatchElements(frag("x", room)))
				e.hub.Broadcast(PatchSignals(map[string]int{"n": i}))
				e.hub.SendToSession("s", RemoveElements("#gone"))
				_ = e.hub.Stats()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var clients sync.WaitGroup
	for c := 0; c < 6; c++ {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for i := 0; i < 10; i++ {
				// Not e.open: t.Fatal must not run outside the test goroutine.
				query := q("room", []string{"a", "b", "c"}[(c+i)%3], "session", "s", "state", "x")
				if err := stormClient(e, query); err != nil {
					t.Errorf("storm client: %v", err)
					return
				}
			}
		}()
	}
	clients.Wait()
	cancel()
	wg.Wait()
	// A client leaves the indexes, then is closed (counted, its queue
	// released): wait for both.
	eventually(t, "all storm clients removed", func() bool {
		st := e.hub.Stats()
		return st.Clients == 0 && st.Disconnects >= 60 && st.QueuedBytes == 0
	})
	if st := e.hub.Stats(); st.Connects != 60 || st.Disconnects != 60 || st.QueuedBytes != 0 {
		t.Errorf("Stats() = %+v, want 60 connects, 60 disconnects, 0 queued bytes", st)
	}
}

// TestHub_Shutdown100 ends 100 open streams within 2 s, abruptly (so the
// browser client retries), and the fiber shutdown that follows finishes.
func TestHub_Shutdown100(t *testing.T) {
	e := newEnv(t, nil, nil)
	streams := make([]*stream, 100)
	for i := range streams {
		streams[i] = e.open(t, q("room", "r"))
	}
	if n := e.hub.ClientCount(); n != 100 {
		t.Fatalf("ClientCount() = %d, want 100", n)
	}
	start := time.Now()
	e.stopHub(t)
	if err := e.app.ShutdownWithTimeout(2 * time.Second); err != nil {
		t.Errorf("app shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v, want under 2s", d)
	}
	for i, s := range streams {
		if err := s.ended(t); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("stream %d ended with %v, want an abrupt end (unexpected EOF)", i, err)
		}
	}
	if st := e.hub.Stats(); st.Clients != 0 || st.Disconnects != 100 {
		t.Errorf("Stats() = %+v, want 0 clients, 100 disconnects", st)
	}
}

func TestHub_StoppedAnswers503(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.stopHub(t)
	resp, err := e.client.Get(e.base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
	if err := e.hub.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run: %v, want ErrAlreadyRunning", err)
	}
}

// stormClient connects, reads the on-connect state and one more event, and
// hangs up.
func stormClient(e *env, query string) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/events?"+query, nil)
	if err != nil {
		return err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	for events := 0; events < 2; {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("after %d events: %w", events, err)
		}
		if strings.HasPrefix(line, "event: ") {
			events++
		}
	}
	return nil
}

// TestHub_LastJoin: a room's last join changes with every stream that
// joins it, a second stream of the same room and a reconnect included,
// and is 0 once the room is empty.
func TestHub_LastJoin(t *testing.T) {
	// Heartbeats find a closed stream quickly.
	e := newEnv(t, []Option{WithHeartbeat(20 * time.Millisecond)}, nil)
	if got := e.hub.LastJoin("r"); got != 0 {
		t.Fatalf("LastJoin of an empty room = %d, want 0", got)
	}
	first := e.open(t, q("room", "r"))
	j1 := e.hub.LastJoin("r")
	second := e.open(t, q("room", "r"))
	j2 := e.hub.LastJoin("r")
	if j1 == 0 || j2 <= j1 {
		t.Fatalf("LastJoin after two joins = %d then %d, want growing", j1, j2)
	}
	second.close()
	eventually(t, "the second stream gone", func() bool { return e.hub.RoomCounts()["r"] == 1 })
	again := e.open(t, q("room", "r"))
	if j3 := e.hub.LastJoin("r"); j3 <= j2 {
		t.Errorf("LastJoin after a reconnect = %d, want above %d", j3, j2)
	}
	first.close()
	again.close()
	eventually(t, "the room empty", func() bool { return e.hub.LastJoin("r") == 0 })
}
