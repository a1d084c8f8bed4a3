package fleet

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestHostRange_RawFromAgentTiersAtHub: a short range at 1 s detail comes
// from the agent's own raw history over request/reply; a long one from
// the hub's minute tier; with the agent gone, the short range still gets
// an answer from the hub (its raw window). The agent answers only for
// its own host: a request for another host finds nobody.
func TestHostRange_RawFromAgentTiersAtHub(t *testing.T) {
	dir := t.TempDir()
	hubStore := openStore(t, filepath.Join(dir, "hub.db"))
	hubRec := newRecorder(t, filepath.Join(dir, "hubrec.db"))
	f := hubConfig(t, "127.0.0.1:0")
	h, err := NewHub(HubOptions{Fleet: f, Store: hubStore, Events: hubRec, DataDir: dir, Logger: testLogger(t),
		HistoryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.o.Retention.Samples, h.o.Retention.Minute, h.o.Retention.Hour = time.Hour, 24*time.Hour, 48*time.Hour
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	runPart(t, h.Run)
	agentDir := t.TempDir()
	a := startAgent(t, "web-1", []string{h.Embedded().ClientURL()}, agentDir)
	agentDB := openStore(t, filepath.Join(agentDir, "agent-history.db")) // the agent's own history, written directly
	hs, err := NewHistoryService(a.nc, "web-1", agentDB, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	stopService := runPart(t, hs.Run)

	t0 := time.Now().Add(-2 * time.Minute).Truncate(time.Minute)
	for i := range 90 {
		at := t0.Add(time.Duration(i) * time.Second)
		if err := agentDB.WriteSample(model.Sample{Time: at, Points: []model.Point{{Series: "cpu.total", Value: float64(i)}}}); err != nil {
			t.Fatal(err)
		}
		a.sample(t, at, float64(i)) // to the hub
	}
	if err := agentDB.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "samples at the hub", func() (bool, string) {
		n := len(hostSamples(t, hubStore, "web-1"))
		return n == 90, "have " + itoa(n)
	})
	ctx := context.Background()
	raw, src, err := h.HostRange(ctx, "web-1", "cpu.total", t0, t0.Add(89*time.Second), 500)
	if err != nil || src != SourceAgent || len(raw) != 90 || raw[89].Value != 89 || !raw[10].Time.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("short range = %d points from %q (%v), want the agent's 90 raw points", len(raw), src, err)
	}
	long, src, err := h.HostRange(ctx, "web-1", "cpu.total", t0.Add(-6*time.Hour), t0.Add(time.Hour), 300)
	if err != nil || src != SourceHubMinute || len(long) != 2 || long[0].Value != 29.5 || long[0].Max != 59 || long[1].Min != 60 {
		t.Fatalf("long range = %+v from %q (%v), want two minutes from the hub's minute tier", long, src, err)
	}
	if _, err := RequestHistory(ctx, h.conn(), "db-1", HistoryRequest{Series: "cpu.total", ToMs: 1}, 500*time.Millisecond); !IsHistoryUnavailable(err) {
		t.Errorf("request to db-1 (no agent) = %v, want a history error", err)
	}
	bad, err := RequestHistory(ctx, h.conn(), "web-1", HistoryRequest{Series: "cpu.total", FromMs: 10, ToMs: 1}, time.Second)
	if err == nil || bad != nil {
		t.Errorf("bad request answered %v, %v; want the agent's error", bad, err)
	}
	stopService()
	fallback, src, err := h.HostRange(ctx, "web-1", "cpu.total", t0, t0.Add(89*time.Second), 500)
	if err != nil || src != SourceHubRaw || len(fallback) != 90 {
		t.Errorf("without the agent: %d points from %q (%v), want the hub's raw window", len(fallback), src, err)
	}
}
