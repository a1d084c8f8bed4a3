package fleet

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

func TestNextBatch(t *testing.T) {
	tests := []struct {
		name                string
		size, n, base, most int
		want                int
	}{
		{"full grows", 256, 256, 256, 4096, 512},
		{"full grows to the bound", 4096, 4096, 256, 4096, 4096},
		{"bound not overshot", 3000, 3000, 256, 4096, 4096},
		{"partial goes back to base", 2048, 700, 256, 4096, 256},
		{"empty goes back to base", 512, 0, 256, 4096, 256},
		{"base stays while keeping up", 256, 10, 256, 4096, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextBatch(tt.size, tt.n, tt.base, tt.most); got != tt.want {
				t.Fatalf("nextBatch(%d, %d, %d, %d) = %d, want %d", tt.size, tt.n, tt.base, tt.most, got, tt.want)
			}
		})
	}
}

// batchLog hears of every committed batch, as the fleet pages would.
type batchLog struct {
	mu      sync.Mutex
	samples map[string]int
	batches int
}

func (b *batchLog) HostsCommitted(hb storage.HostBatch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches++
	for _, s := range hb.Samples {
		b.samples[s.Host]++
	}
}

// TestIngester_BacklogDrainsInBigCommits: a backlog of thousands of
// messages (a hub that was down, or fell behind) is stored in a few big
// transactions, not one per Batch: the batch grows while messages are
// pending. Everything is stored once, in order per host, and the
// CommitListener hears of every sample.
func TestIngester_BacklogDrainsInBigCommits(t *testing.T) {
	dir := t.TempDir()
	f := hubConfig(t, "127.0.0.1:0")
	emb, err := StartEmbedded(EmbeddedOptions{Listen: f.NATS.Embedded.Listen, StoreDir: filepath.Join(dir, "nats"),
		MaxStore: int64(f.NATS.Embedded.MaxStore), Agents: f.Agents})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureStream(context.Background(), js, f.Stream); err != nil {
		t.Fatal(err)
	}
	// The backlog: n samples of two hosts, published before the hub
	// consumes.
	const n, batch = 6000, 64
	hosts := []string{"web-1", "db-1"}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range n / len(hosts) {
		for _, h := range hosts {
			s := model.Sample{Time: t0.Add(time.Duration(i) * time.Millisecond), Points: []model.Point{{Series: "cpu.total", Value: float64(i)}}}
			if _, err := js.PublishAsync(Subject(h, KindSample), EncodeSample(s)); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("backlog not published within 30s")
	}
	store := openStore(t, filepath.Join(dir, "hub.db"))
	heard := &batchLog{samples: map[string]int{}}
	in, err := NewIngester(IngestOptions{JS: js, Store: store, Stream: f.Stream, Batch: batch, Committed: heard})
	if err != nil {
		t.Fatal(err)
	}
	stop := runPart(t, in.Run)
	eventually(t, 60*time.Second, "backlog stored", func() (bool, string) {
		return in.Stored() >= n, "stored " + itoa(int(in.Stored()))
	})
	stop()
	// One transaction per Batch would be n/batch (93) commits; growing
	// batches take a few more than n/MaxBatch (6) plus the doublings.
	if c := in.Commits(); c > n/batch/2 {
		t.Errorf("backlog of %d stored in %d commits, want at most %d (batches should grow while messages are pending)", n, c, n/batch/2)
	}
	t.Logf("%d messages in %d commits", in.Stored(), in.Commits())
	for _, h := range hosts {
		checkSamples(t, hostSamples(t, store, h), t0, n/len(hosts))
		heard.mu.Lock()
		got := heard.samples[h]
		heard.mu.Unlock()
		if got != n/len(hosts) {
			t.Errorf("listener heard %d samples of %s, want %d", got, h, n/len(hosts))
		}
	}
}
