package alert

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// Firing is an active alert as the alerts page and the API show it.
type Firing struct {
	model.Alert
	// HeldBy names the silence or maintenance window holding it back
	// ("" when it is sent).
	HeldBy string `json:"held_by,omitempty"`
}

// ChannelHealth is a channel's delivery health for the alerts page and
// the API.
type ChannelHealth struct {
	model.OutboxStat
	Name      string `json:"name"`
	Type      string `json:"type"`
	Described string `json:"description"`
	// Routed is false for a channel no route sends to.
	Routed    bool   `json:"routed"`
	Delivered uint64 `json:"delivered_since_start"`
	Failed    uint64 `json:"failed_since_start"`
	Retried   uint64 `json:"retried_since_start"`
}

// Snapshot is the alerting state at a moment.
type Snapshot struct {
	Firing   []Firing        `json:"firing"`
	Silences []model.Silence `json:"silences"`
	Channels []ChannelHealth `json:"channels"`
}

// State returns the firing alerts (most severe first, then oldest), the
// silences not yet ended, and each channel's health.
func (a *Alerter) State() (Snapshot, error) {
	cfg := a.o.Latest.Config()
	now := a.o.Now()
	stats, err := a.o.Store.OutboxStats()
	if err != nil {
		return Snapshot{}, fmt.Errorf("alert: outbox stats: %w", err)
	}
	byName := map[string]model.OutboxStat{}
	for _, s := range stats {
		byName[s.Channel] = s
	}
	var snap Snapshot
	a.mu.Lock()
	for _, st := range a.active {
		f := Firing{Alert: st.alert, HeldBy: a.silencedBy(st.alert, now)}
		if f.HeldBy == "" {
			if m := maintenanceFor(cfg, st.alert, now); m != "" {
				f.HeldBy = "maintenance " + m
			}
		}
		snap.Firing = append(snap.Firing, f)
	}
	for _, s := range a.silences {
		if s.Active(now) || now.Before(s.Start) {
			snap.Silences = append(snap.Silences, s)
		}
	}
	routed := map[string]bool{}
	for _, r := range cfg.Alerts.Routes {
		for _, c := range r.Channels {
			routed[c] = true
		}
	}
	for _, c := range cfg.Alerts.Channels {
		h := ChannelHealth{OutboxStat: byName[c.Name], Name: c.Name, Type: c.Type, Routed: routed[c.Name]}
		h.Channel = c.Name
		h.Described = a.o.Describe(c)
		if st := a.stats[c.Name]; st != nil {
			h.Delivered, h.Failed, h.Retried = st.delivered, st.failed, st.retried
		}
		snap.Channels = append(snap.Channels, h)
	}
	a.mu.Unlock()
	sort.Slice(snap.Firing, func(i, j int) bool {
		x, y := snap.Firing[i], snap.Firing[j]
		if rx, ry := severityRank(x.Severity), severityRank(y.Severity); rx != ry {
			return rx < ry
		}
		return x.StartsAt.Before(y.StartsAt)
	})
	sort.Slice(snap.Silences, func(i, j int) bool { return snap.Silences[i].ID > snap.Silences[j].ID })
	return snap, nil
}

func severityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "warning":
		return 1
	}
	return 2
}

// Held returns, for each check whose alert a silence or maintenance
// window holds back now, what holds it ("silenced", "maintenance"): the
// dashboard marks those tiles.
func (a *Alerter) Held() map[string]string {
	cfg := a.o.Latest.Config()
	now := a.o.Now()
	out := map[string]string{}
	for _, st := range a.o.Checks.Statuses() {
		al := model.Alert{Source: model.AlertSourceCheck, Name: st.Name, Labels: map[string]string{"group": st.Group}}
		if maintenanceFor(cfg, al, now) != "" {
			out[st.Name] = "maintenance"
			continue
		}
		a.mu.Lock()
		by := a.silencedBy(al, now)
		a.mu.Unlock()
		if by != "" {
			out[st.Name] = "silenced"
		}
	}
	return out
}

// Errors of the silence and test operations.
var (
	// ErrBadSilence is returned by AddSilence for a silence that cannot be
	// (no end, end before start or in the past, longer than 90 days, a bad
	// pattern, no author, a field storage refuses as too long): the
	// caller's mistake, a 400.
	ErrBadSilence = errors.New("alert: bad silence")
)

// AddSilence stores a silence and holds back what it matches from now on;
// it is recorded as an event (who, what, until when).
func (a *Alerter) AddSilence(ctx context.Context, s model.Silence) (model.Silence, error) {
	now := a.o.Now()
	if s.Start.IsZero() {
		s.Start = now
	}
	switch {
	case s.End.IsZero() || !s.End.After(s.Start):
		return s, fmt.Errorf("%w: the end must be after the start", ErrBadSilence)
	case !s.End.After(now):
		return s, fmt.Errorf("%w: the end is in the past", ErrBadSilence)
	case s.End.Sub(s.Start) > 90*24*time.Hour:
		return s, fmt.Errorf("%w: at most 90 days", ErrBadSilence)
	case strings.TrimSpace(s.Author) == "":
		return s, fmt.Errorf("%w: the author is required", ErrBadSilence)
	}
	for _, list := range [][]string{s.Checks, s.Groups, s.Rules} {
		for _, p := range list {
			if !validPattern(p) {
				return s, fmt.Errorf("%w: bad pattern %q", ErrBadSilence, p)
			}
		}
	}
	stored, err := a.o.Store.AddSilence(ctx, s)
	if errors.Is(err, storage.ErrInvalid) {
		// Too long a field, too many matchers: what storage refuses is
		// the caller's to fix.
		return s, fmt.Errorf("%w: %w", ErrBadSilence, err)
	}
	if err != nil {
		return s, fmt.Errorf("alert: add silence: %w", err)
	}
	a.mu.Lock()
	a.silences = append(a.silences, stored)
	a.mu.Unlock()
	a.o.Recorder.Event(model.Event{Time: now, Kind: model.EventSilence, User: stored.Author, Address: s.Address,
		Reason: fmt.Sprintf("silence #%d by %s until %s: %s (%s)", stored.ID, stored.Author,
			stored.End.UTC().Format(time.RFC3339), matchers(stored), stored.Comment)})
	return stored, nil
}

// ExpireSilence ends a silence now; what it held back and still fires is
// queued by a reminder round the running loop makes at once. An unknown
// id gives an error wrapping storage.ErrNotFound.
func (a *Alerter) ExpireSilence(ctx context.Context, id uint64, by, addr string) error {
	now := a.o.Now()
	if err := a.o.Store.ExpireSilence(ctx, id, now); err != nil {
		return fmt.Errorf("alert: expire silence %d: %w", id, err)
	}
	a.mu.Lock()
	for i := range a.silences {
		if a.silences[i].ID == id {
			a.silences[i].Expired = now
		}
	}
	a.mu.Unlock()
	a.o.Recorder.Event(model.Event{Time: now, Kind: model.EventSilence, User: by, Address: addr,
		Reason: fmt.Sprintf("silence #%d expired by %s", id, by)})
	a.askRemind() // release what it held at once
	return nil
}

func matchers(s model.Silence) string {
	var parts []string
	if len(s.Checks) > 0 {
		parts = append(parts, "checks "+strings.Join(s.Checks, ","))
	}
	if len(s.Groups) > 0 {
		parts = append(parts, "groups "+strings.Join(s.Groups, ","))
	}
	if len(s.Rules) > 0 {
		parts = append(parts, "rules "+strings.Join(s.Rules, ","))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, "; ")
}

// SendTest queues a test message to a channel, through the outbox like any
// other, and returns its item.
func (a *Alerter) SendTest(ctx context.Context, channel string) (model.OutboxItem, error) {
	cfg := a.o.Latest.Config()
	found := false
	for _, c := range cfg.Alerts.Channels {
		found = found || c.Name == channel
	}
	if !found {
		return model.OutboxItem{}, fmt.Errorf("%w: %q", errNoChannel, channel)
	}
	now := a.o.Now()
	al := a.dashdAlert("test", "info", model.AlertFiring, "test message from dashd", "sent from the alerts page")
	al.Key = "dashd:test:" + channel
	al.StartsAt = now
	it := item(channel, al, now)
	it.Test = true
	items, err := a.o.Store.AddAlertChange(ctx, model.AlertChange{Outbox: []model.OutboxItem{it}})
	if err != nil {
		return it, fmt.Errorf("alert: queue test message to %q: %w", channel, err)
	}
	a.wakeAll()
	if len(items) == 1 {
		it = items[0]
	}
	return it, nil
}

// IsNoChannel reports whether err says a channel is not configured.
func IsNoChannel(err error) bool { return errors.Is(err, errNoChannel) }

// Counters returns deliveries by channel and result since start, for
// /metrics (dashd_notifications_total{channel,result}).
func (a *Alerter) Counters() map[string]map[string]uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]map[string]uint64{}
	for name, st := range a.stats {
		out[name] = map[string]uint64{"delivered": st.delivered, "failed": st.failed, "retried": st.retried}
	}
	return out
}

// FiringCount is how many alerts fire now (dashd_alerts_firing).
func (a *Alerter) FiringCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.active)
}

// OutboxStats is each channel's queue and delivery health, from storage.
func (a *Alerter) OutboxStats() ([]model.OutboxStat, error) { return a.o.Store.OutboxStats() }
