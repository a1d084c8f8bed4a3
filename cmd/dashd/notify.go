package main

import (
	"fmt"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// notifier speaks sd_notify. Outside systemd (no NOTIFY_SOCKET) every call is a
// no-op, which go-systemd guarantees.
type notifier struct {
	log      *slog.Logger
	watchdog time.Duration // 0 when systemd asked for no watchdog
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

func (n *notifier) ready()          { n.send(sd.SdNotifyReady) }
func (n *notifier) stopping()       { n.send(sd.SdNotifyStopping) }
func (n *notifier) ping()           { n.send(sd.SdNotifyWatchdog) }
func (n *notifier) status(s string) { n.send("STATUS=" + s) }
func (n *notifier) reloading() {
	// MONOTONIC_USEC lets Type=notify-reload units match the reload; it is
	// harmless for Type=notify.
	n.send(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", sd.SdNotifyReloading, monotonicUsec()))
}
