package alert

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// selfAlerts watches dashd itself: history writes failing and host
// sampling stalled. (A rejected reload is an event the Attacher turns into
// "dashd.config" directly.)
type selfAlerts struct {
	a *Alerter
	// ctx is Run's: the direct sends end with it.
	ctx context.Context
	// direct guards the best-effort sends of the storage alert.
	direct sync.WaitGroup
}

// check evaluates dashd's own alerts now.
func (s *selfAlerts) check() {
	a := s.a
	now := a.o.Now()
	cfg := a.o.Latest.Config()

	h := a.o.Store.WriteHealth()
	key := dashdKey("storage")
	switch {
	case !h.OK && !a.firing(key):
		al := a.dashdAlert("storage", config.SeverityCritical, model.AlertFiring, "history is not being saved", h.String())
		a.emit(al, now)
		// The outbox is on the disk that fails: the items of this alert
		// are held in memory until it recovers. Say it now, best effort.
		s.sendNow(cfg, al, now)
	case h.OK && a.firing(key):
		a.emit(a.dashdAlert("storage", config.SeverityCritical, model.AlertResolved, "history is being saved again", ""), now)
	}

	key = dashdKey("sampling")
	snap, ok := a.o.Latest.System()
	limit := 3*cfg.Collect.Interval.D() + 5*time.Second
	stalled := !ok || now.Sub(snap.Time) > limit
	switch {
	case stalled && ok && !a.firing(key):
		a.emit(a.dashdAlert("sampling", config.SeverityCritical, model.AlertFiring, "host sampling stalled",
			fmt.Sprintf("no host sample for %s", now.Sub(snap.Time).Round(time.Second))), now)
	case !stalled && a.firing(key):
		a.emit(a.dashdAlert("sampling", config.SeverityCritical, model.AlertResolved, "host sampling resumed", ""), now)
	}
}

// sendNow sends al to its channels at once, without the outbox.
func (s *selfAlerts) sendNow(cfg *config.Config, al model.Alert, now time.Time) {
	a := s.a
	al.StartsAt = now
	al.URL = alertURL(cfg.Alerts.ExternalURL, al)
	for _, t := range routeAlert(cfg.Alerts, al) {
		for _, c := range cfg.Alerts.Channels {
			if c.Name != t.channel {
				continue
			}
			sender, err := a.o.NewSender(c)
			if err != nil {
				continue
			}
			msg := model.AlertMessage{ID: fmt.Sprintf("dashd-%s-%s-direct-%d", a.o.Host, c.Name, now.Unix()),
				Channel: c.Name, Host: a.o.Host, Alerts: []model.Alert{al}, ExternalURL: cfg.Alerts.ExternalURL, Time: now}
			s.direct.Add(1)
			go func() {
				defer s.direct.Done()
				ctx, cancel := context.WithTimeout(s.ctx, channelTimeout(c))
				defer cancel()
				if err := sender.Send(ctx, msg); err != nil {
					a.log.Warn("storage alert not sent directly", "channel", c.Name, "err", err)
				}
			}()
		}
	}
}

// wait waits for the direct sends in flight.
func (s *selfAlerts) wait() { s.direct.Wait() }
