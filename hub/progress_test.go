package hub

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgress_Observe(t *testing.T) {
	const timeout = 2 * time.Second
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		at      float64 // seconds after t0
		written int64   // total written before this check
		outq    int
		stuck   bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "stuck from the start: two checks 2 s apart without a byte taken",
			steps: []step{
				{at: 1, written: 30000, outq: 25000},              // 5000 taken: moving
				{at: 2, written: 30500, outq: 25500},              // nothing taken: the stall starts
				{at: 3, written: 31000, outq: 26000},              // 1 s
				{at: 4, written: 31500, outq: 26500, stuck: true}, // 2 s
				{at: 5, written: 32000, outq: 27000, stuck: true}, // still
			},
		},
		{
			name: "slow reader: a few bytes taken between checks keep it moving",
			steps: []step{
				{at: 1, written: 30000, outq: 29000},
				{at: 2, written: 30500, outq: 29400},
				{at: 3, written: 31000, outq: 29800},
				{at: 4, written: 31500, outq: 30200},
				{at: 9, written: 34000, outq: 32600},
			},
		},
		{
			name: "slow reader behind a small window: a window's worth every two seconds",
			steps: []step{
				{at: 0, written: 8770, outq: 5698},
				{at: 1.25, written: 9355, outq: 6283}, // nothing taken
				{at: 2.5, written: 9825, outq: 4705},  // 2 KB taken
				{at: 3.5, written: 10297, outq: 5177},
				{at: 4.75, written: 10769, outq: 3601},
				{at: 5.75, written: 11241, outq: 4073},
				{at: 7, written: 11713, outq: 2497},
			},
		},
		{
			name: "an empty queue is progress; a stall counts from the first check that sees one",
			steps: []step{
				{at: 1, written: 1000, outq: 0},
				{at: 11, written: 1500, outq: 500},
				{at: 12, written: 2000, outq: 1000},
				{at: 12.9, written: 2000, outq: 1000},
				{at: 13, written: 2000, outq: 1000, stuck: true},
			},
		},
		{
			name: "the stall ends with the first byte taken",
			steps: []step{
				{at: 1, written: 1000, outq: 1000},
				{at: 2, written: 1000, outq: 1000},
				{at: 2.5, written: 1000, outq: 999}, // one byte: moving again
				{at: 3.5, written: 1200, outq: 1199},
				{at: 4.4, written: 1200, outq: 1199},
				{at: 5.5, written: 1200, outq: 1199, stuck: true},
			},
		},
		{
			name: "an estimate that falls (TLS record overhead) is not progress",
			steps: []step{
				{at: 1, written: 1000, outq: 1100},
				{at: 2, written: 1100, outq: 1230},
				{at: 3, written: 1200, outq: 1360, stuck: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p progress
			for i, s := range tt.steps {
				p.written = s.written
				if got := p.observe(at(s.at), s.outq, timeout); got != s.stuck {
					t.Fatalf("step %d (at %.1fs, written %d, outq %d): stuck = %v, want %v (stalled %v)",
						i, s.at, s.written, s.outq, got, s.stuck, p.stalled.Sub(t0))
				}
			}
		})
	}
}

func TestHub_QuietCheckScalesWithStreams(t *testing.T) {
	tests := []struct {
		streams uint64
		want    time.Duration
	}{
		{0, time.Second},
		{500, time.Second},
		{2500, 2500 * time.Millisecond},
		{10000, 10 * time.Second},
		{100000, DefaultHeartbeat},
	}
	for _, tt := range tests {
		h := New()
		h.connects.Add(tt.streams)
		if got := h.quietCheck(); got != tt.want {
			t.Errorf("%d streams: quiet check every %v, want %v", tt.streams, got, tt.want)
		}
	}
}

// dashboardTraffic broadcasts a ~100-byte update to room r every 250 ms
// (about 400 B/s, a dashboard's order) until stop is closed.
func dashboardTraffic(h *Hub, stop <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
			h.BroadcastToRoom("r", PatchSignals(map[string]any{"_v": map[string]any{"cpu": i, "pad": "0123456789012345678901234567890123456789"}}))
		}
	}
}

// TestHub_StuckReaderEvictedWithinSeconds: a client that never reads, at
// dashboard traffic, is evicted ("not reading") within about the write
// timeout plus a check interval of its receive buffer filling, long before
// the bytes sent to it could fill the socket's send buffer and the queue
// (which at this traffic takes some fifteen minutes). A reading client in
// the same room stays.
func TestHub_StuckReaderEvictedWithinSeconds(t *testing.T) {
	const writeTimeout = 2 * time.Second // the daemon's
	var logs logBuffer
	e := newEnv(t, []Option{WithWriteTimeout(writeTimeout), WithLogger(logs.logger())}, nil)
	reader := e.open(t, q("room", "r"))
	// The full state a page gets on connect (a dashboard's is ~11-27 KB)
	// is more than the stuck client's receive buffer holds: it stops
	// acknowledging at once.
	start := time.Now()
	e.rawClient(t, q("room", "r", "bigstate", "16384"), 2048)
	eventually(t, "stuck client attached", func() bool { return e.hub.ClientCount() == 2 })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { dashboardTraffic(e.hub, stop) })
	defer func() { close(stop); wg.Wait() }()
	go func() { // the reading client drains its stream
		for range reader.events {
		}
	}()

	eventually(t, "stuck client evicted", func() bool { return e.hub.Stats().Evictions == 1 })
	took := time.Since(start)
	t.Logf("stuck reader evicted %v after it connected (write timeout %v, check every %v)", took, writeTimeout, defaultProgressEvery)
	st := e.hub.Stats()
	if st.NotReading != 1 || st.Clients != 1 {
		t.Errorf("Stats() = %+v, want 1 eviction for not reading and the reading client still there", st)
	}
	if !strings.Contains(logs.String(), `reason="not reading"`) {
		t.Errorf("eviction not logged as not reading:\n%s", logs.String())
	}
	// What was sent to it is far less than the send buffer and queue hold:
	// only the progress check can have found it.
	if sent := st.BytesWritten; sent > DefaultSendBuffer {
		t.Errorf("%d bytes written in all before the eviction, want under the %d-byte send buffer", sent, DefaultSendBuffer)
	}
	// Within the write timeout plus two checks of its buffer filling (at
	// once here), with a wide margin for a loaded machine (the bound it
	// replaces: minutes).
	if limit := writeTimeout + 2*defaultProgressEvery + 5*time.Second; took > limit {
		t.Errorf("evicted after %v, want within %v", took, limit)
	}
}

// TestHub_SlowReaderAtDashboardTrafficNotEvicted: a client that reads only
// 1 KB a second, behind a small receive buffer so that bytes wait for it
// at every check, is never taken for a stuck one.
func TestHub_SlowReaderAtDashboardTrafficNotEvicted(t *testing.T) {
	const writeTimeout = 2 * time.Second
	e := newEnv(t, []Option{WithWriteTimeout(writeTimeout)}, nil)
	// Eight seconds of reading at 1 KB/s.
	conn := e.rawClient(t, q("room", "r", "bigstate", "8192"), 2048)
	eventually(t, "client attached", func() bool { return e.hub.ClientCount() == 1 })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { dashboardTraffic(e.hub, stop) })
	defer func() { close(stop); wg.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 4*writeTimeout+2*time.Second)
	defer cancel()
	buf := make([]byte, 256)
	read := 0
	tick := time.NewTicker(250 * time.Millisecond) // 256 B every 250 ms: 1 KB/s
	defer tick.Stop()
	for ctx.Err() == nil {
		<-tick.C
		if err := conn.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		read += n
		if err != nil {
			t.Fatalf("stream ended after %d bytes read: %v (stats %+v)", read, err, e.hub.Stats())
		}
	}
	t.Logf("%d bytes read at 1 KB/s", read)
	if st := e.hub.Stats(); st.Evictions != 0 || st.Clients != 1 {
		t.Errorf("Stats() = %+v, want the slow reader still connected", st)
	}
}
