package fleet

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
)

// realSample takes a real sample of this machine (the second: rates need
// two), as the agent publishes it.
func realSample(b *testing.B) model.Sample {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var snaps []system.Snapshot
	s := system.New(system.Options{Interval: 300 * time.Millisecond, MountExclude: system.DefaultMountExclude()})
	_ = s.Run(ctx, func(snap system.Snapshot) {
		if snaps = append(snaps, snap); len(snaps) == 2 {
			cancel()
		}
	})
	if len(snaps) < 2 {
		b.Skip("no samples from this machine")
	}
	return model.Sample{Time: snaps[1].Time, Points: snaps[1].Points()}
}

// BenchmarkSampleWire reports the bytes of one real sample on the wire
// (and as JSON, for comparison) and the time to encode and decode it.
func BenchmarkSampleWire(b *testing.B) {
	s := realSample(b)
	js, _ := json.Marshal(s)
	wire := EncodeSample(s)
	for b.Loop() {
		if _, err := DecodeSample(EncodeSample(s)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.Points)), "points")
	b.ReportMetric(float64(len(wire)), "wire_B/sample")
	b.ReportMetric(float64(len(js)), "json_B/sample")
}
