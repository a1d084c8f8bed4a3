package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	return ensureStream(ctx, js, StreamConfig(c))
}

// ensureStream creates the stream sc describes, or updates it when its
// settings differ, and leaves it alone when they do not. Every hub (and
// both of a hub's action consumers' set-up) runs this at start: an update
// that changes nothing still rewrites the stream's store configuration on
// the server, which raced there with consumers being created (seen as a
// data race inside nats-server 2.15.3 under -race).
func ensureStream(ctx context.Context, js jetstream.JetStream, sc jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, sc.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, sc)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, sc.Name) // another hub created it meanwhile
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fleet: create stream %s: %w", sc.Name, err)
	}
	if sameStream(s.CachedInfo().Config, sc) {
		return s, nil
	}
	if s, err = js.UpdateStream(ctx, sc); err != nil {
		return nil, fmt.Errorf("fleet: update stream %s: %w", sc.Name, err)
	}
	return s, nil
}

// sameStream reports whether the stream has the settings dashd gives it
// (want); what dashd leaves to the server's defaults is not compared.
func sameStream(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Description == want.Description &&
		have.Storage == want.Storage && have.Retention == want.Retention && have.Discard == want.Discard &&
		have.MaxAge == want.MaxAge && have.MaxBytes == want.MaxBytes && have.MaxMsgSize == want.MaxMsgSize &&
		max(have.Replicas, 1) == max(want.Replicas, 1) && (want.Duplicates == 0 || have.Duplicates == want.Duplicates)
}
