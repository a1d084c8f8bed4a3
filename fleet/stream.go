package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
)

// StreamName is the fleet stream: every host's messages.
const StreamName = "DASHD_FLEET"

// StreamConfig is the fleet stream's configuration from fleet.stream.
func StreamConfig(c config.FleetStream) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "dashd fleet: samples, results, events and hellos of every host",
		Subjects:    []string{StreamSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge.D(),
		MaxBytes:    int64(c.MaxBytes),
		MaxMsgSize:  MaxPayload,
		Replicas:    c.Replicas,
		Duplicates:  c.DuplicateWindow.D(),
	}
}

// EnsureStream creates the fleet stream, or updates it to c.
func EnsureStream(ctx context.Context, js jetstream.JetStream, c config.FleetStream) (jetstream.Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := js.CreateOrUpdateStream(ctx, StreamConfig(c))
	if err != nil {
		return nil, fmt.Errorf("fleet: create stream %s: %w", StreamName, err)
	}
	return s, nil
}
