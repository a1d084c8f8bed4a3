package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/view"
)

// notifier speaks sd_notify. Outside systemd (no NOTIFY_SOCKET) every call is a
// no-op, which go-systemd guarantees.
type notifier struct {
	log      *slog.Logger
	watchdog time.Duration // 0 when systemd asked for no watchdog
	ready    atomic.Bool   // READY=1 sent
}

func newNotifier(log *slog.Logger) *notifier {
	// Only the main PID may ping: WATCHDOG_PID guards against a child
	// inheriting the variables, which go-systemd checks for us.
	wd, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog settings unreadable", "err", err)
	}
	return &notifier{log: log, watchdog: wd}
}

func (n *notifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.log.Debug("sd_notify failed", "state", state, "err", err)
	}
}

func (n *notifier) stopping() { n.send(sd.SdNotifyStopping) }

// reloading says a reload started and returns the call that says it ended.
// Before the first READY=1 a reload announces nothing: readiness must come
// from the first sample, not from a reload.
func (n *notifier) reloading() (done func()) {
	if !n.ready.Load() {
		return func() {}
	}
	// MONOTONIC_USEC lets Type=notify-reload units match the reload; it is
	// harmless for Type=notify.
	n.send(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", sd.SdNotifyReloading, monotonicUsec()))
	return func() { n.send(sd.SdNotifyReady) }
}

// statusEvery is how often the STATUS= line is refreshed for systemd.
const statusEvery = 5 * time.Second

// run is the notifier's part of the daemon: READY=1 once the first host
// sample exists (the listener is up and storage open by then), then the
// STATUS= line, and WATCHDOG=1 pings only while sampling makes progress,
// so a stalled sampler gets dashd restarted.
func (n *notifier) run(latest *state.Latest, checks *collectors.Runner, h *hub.Hub) func(context.Context) error {
	return func(ctx context.Context) error {
		// Fast polling only until READY=1; then status lines and watchdog
		// pings need a wake-up every few seconds, on the whole-second grid
		// where host sampling wakes the process anyway.
		every := 100 * time.Millisecond
		timer := time.NewTimer(every)
		defer timer.Stop()
		var lastStatus time.Time
		for {
			select {
			case <-ctx.Done():
				return nil
			case now := <-timer.C:
				if !n.ready.Load() && latest.Samples() > 0 {
					n.ready.Store(true)
					n.send(sd.SdNotifyReady)
					n.log.Info("ready")
					every = statusEvery
					if n.watchdog > 0 {
						every = min(every, n.watchdog/4)
					}
				}
				if n.ready.Load() {
					if now.Sub(lastStatus) >= statusEvery-every/2 {
						n.send("STATUS=" + statusLine(checks.Statuses(), h.ClientCount()))
						lastStatus = now
					}
					if n.watchdog > 0 && collecting(latest, now) {
						n.send(sd.SdNotifyWatchdog)
					}
				}
				timer.Reset(time.Until(grid.Next(time.Now(), every)))
			}
		}
	}
}

// collecting reports whether host sampling is making progress: the newest
// sample is at most three intervals (plus slack for a slow tick) old.
func collecting(latest *state.Latest, now time.Time) bool {
	snap, ok := latest.System()
	if !ok {
		return false
	}
	limit := 3*latest.Config().Collect.Interval.D() + 5*time.Second
	return now.Sub(snap.Time) < limit
}

// statusLine is the one-line summary systemctl status shows.
func statusLine(sts []collectors.Status, clients int) string {
	o := view.Overall(sts)
	return fmt.Sprintf("checks: %d up, %d degraded, %d down, %d unknown; %d SSE clients",
		o.Up, o.Degraded, o.Down, o.Unknown, clients)
}
