package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dashd/dashd/storage"
)

// HostRange returns host's points of series in [from, to], oldest first,
// at most points of them (points <= 0: MaxHistoryPoints), from where the
// detail asked for lives:
//
//   - a step (span / points) under a minute needs raw points: the hub
//     asks the host's agent over NATS (HistorySubject, bounded by
//     HistoryTimeout), which reads its own history (its raw tier while
//     the range is within its storage.retention.raw). When the agent
//     does not answer (unreachable, too slow, an error), the hub answers
//     from its own raw window (fleet.hub_raw) if the range starts inside
//     it, else from its minute tier: coarser, never nothing;
//   - a step under an hour reads the hub's minute tier, unless from is
//     older than its retention: then the hour tier;
//   - anything coarser reads the hub's hour tier.
//
// The answer says which it used (Source).
func (h *Hub) HostRange(ctx context.Context, host, series string, from, to time.Time, points int) ([]storage.SeriesPoint, Source, error) {
	if to.Before(from) {
		return nil, SourceNone, fmt.Errorf("fleet: host %s range %q: %w: to before from", host, series, storage.ErrInvalid)
	}
	if points <= 0 || points > MaxHistoryPoints {
		points = MaxHistoryPoints
	}
	now := time.Now()
	step := to.Sub(from) / time.Duration(points)
	if step < time.Minute {
		if nc := h.conn(); nc != nil {
			pts, err := RequestHistory(ctx, nc, host, HistoryRequest{Series: series, FromMs: from.UnixMilli(), ToMs: to.UnixMilli(),
				Points: points}, h.o.HistoryTimeout)
			if err == nil {
				return pts, SourceAgent, nil
			}
			if ctx.Err() != nil {
				return nil, SourceNone, fmt.Errorf("fleet: host %s range %q: %w", host, series, ctx.Err())
			}
			h.log.Debug("agent history not available; answering from the hub's tiers", "host", host, "err", err)
		}
		if r := h.o.Retention.Samples; r > 0 && !from.Before(now.Add(-r)) {
			return h.tier(host, series, storage.TierRaw, from, to, points)
		}
		return h.tier(host, series, storage.TierMinute, from, to, points)
	}
	if step < time.Hour && (h.o.Retention.Minute <= 0 || !from.Before(now.Add(-h.o.Retention.Minute))) {
		return h.tier(host, series, storage.TierMinute, from, to, points)
	}
	return h.tier(host, series, storage.TierHour, from, to, points)
}

func (h *Hub) tier(host, series string, t storage.Tier, from, to time.Time, points int) ([]storage.SeriesPoint, Source, error) {
	pts, err := h.o.Store.HostTierRange(host, series, t, from, to, points)
	if err != nil {
		return nil, SourceNone, fmt.Errorf("fleet: %w", err)
	}
	return pts, Source("hub-" + t.String()), nil
}

// Source says where HostRange's points came from.
type Source string

// The sources of HostRange.
const (
	SourceNone      Source = ""
	SourceAgent     Source = "agent"      // the agent's own history (raw while it has it)
	SourceHubRaw    Source = "hub-raw"    // the hub's raw window
	SourceHubMinute Source = "hub-minute" // the hub's minute tier
	SourceHubHour   Source = "hub-hour"   // the hub's hour tier
)

// IsHistoryUnavailable reports whether err says an agent could not
// answer a history request.
func IsHistoryUnavailable(err error) bool { return errors.Is(err, ErrHistory) }
