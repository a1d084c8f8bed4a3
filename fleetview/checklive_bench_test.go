package fleetview

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// benchHost fills web-1 with a day of 20 checks at 30 s (57,600 results)
// and returns the test rig.
func benchHost(b *testing.B) *checkTest {
	ct := newCheckTest(b)
	start := ct.now.Add(-24 * time.Hour)
	var batch storage.HostBatch
	for i := range 2880 {
		for c := range 20 {
			batch.Results = append(batch.Results, storage.HostResult{Host: "web-1", Result: model.Result{
				Check: fmt.Sprintf("c-%02d", c), Time: start.Add(time.Duration(i)*30*time.Second + time.Duration(c)*time.Millisecond),
				State: model.StateUp, Latency: 12 * time.Millisecond}})
		}
	}
	batch.Events = []storage.HostEvent{{Host: "web-1", Event: model.Event{ID: 1, Time: start, Kind: model.EventCheck,
		Check: "c-05", From: model.StateUnknown, To: model.StateUp}}}
	if err := ct.db.IngestHosts(batch); err != nil {
		b.Fatal(err)
	}
	return ct
}

// BenchmarkCheckTick measures one watched agent check page per tick:
// "idle" is a tick with nothing new (the two mark reads and the
// summary), "rebuild" one after a new result (the whole page read again).
func BenchmarkCheckTick(b *testing.B) {
	ctx := context.Background()
	b.Run("idle", func(b *testing.B) {
		ct := benchHost(b)
		var s sent
		ct.f.checkTick(ctx, &s, "web-1", "c-05", "")
		b.ResetTimer()
		for range b.N {
			ct.f.checkTick(ctx, &s, "web-1", "c-05", "")
		}
	})
	b.Run("rebuild", func(b *testing.B) {
		ct := benchHost(b)
		b.ResetTimer()
		for range b.N {
			var s sent
			ct.f.checkTick(ctx, &s, "web-1", "c-05", "")
		}
	})
}
