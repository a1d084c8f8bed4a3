package fleet

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
)

// TestSameStream: a stream as the server reports it (its defaults filled
// in) is the one dashd asks for, so it is not updated at every start;
// any setting dashd gives that differs is an update.
func TestSameStream(t *testing.T) {
	want := StreamConfig(config.FleetStream{MaxAge: config.Duration(24 * time.Hour), MaxBytes: 1 << 30})
	served := want
	served.Replicas, served.Duplicates = 1, 2*time.Minute // the server's defaults
	tests := []struct {
		name string
		have func(jetstream.StreamConfig) jetstream.StreamConfig
		same bool
	}{
		{"as served", func(c jetstream.StreamConfig) jetstream.StreamConfig { return c }, true},
		{"max age", func(c jetstream.StreamConfig) jetstream.StreamConfig { c.MaxAge = time.Hour; return c }, false},
		{"max bytes", func(c jetstream.StreamConfig) jetstream.StreamConfig { c.MaxBytes = 1 << 20; return c }, false},
		{"replicas", func(c jetstream.StreamConfig) jetstream.StreamConfig { c.Replicas = 3; return c }, false},
		{"subjects", func(c jetstream.StreamConfig) jetstream.StreamConfig { c.Subjects = []string{"x.>"}; return c }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameStream(tt.have(served), want); got != tt.same {
				t.Errorf("sameStream = %v, want %v", got, tt.same)
			}
		})
	}
}
