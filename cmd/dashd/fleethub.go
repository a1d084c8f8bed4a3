package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/fleet"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/server"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/view"
)

// newFleetHub builds the hub's side of the fleet when the configuration
// has a fleet: section (nil otherwise): the embedded NATS server (or the
// cluster in fleet.nats.urls), the stream, the ingester into store and
// the hosts registry, whose reachability events go through rec. The
// alerter, built later, is given with SetAlerts.
func newFleetHub(cfg *config.Config, store *storage.DB, rec *flow.Recorder, log *slog.Logger) (*fleet.Hub, error) {
	if cfg.Fleet == nil {
		return nil, nil
	}
	o := fleet.HubOptions{Fleet: cfg.Fleet, Store: store, Events: rec, DataDir: filepath.Dir(cfg.Storage.Path),
		HubName: hubName(cfg.Fleet), Logger: log.With("part", "fleet")}
	r := cfg.Storage.Retention
	o.Retention.Samples, o.Retention.Minute, o.Retention.Hour = cfg.Fleet.HubRaw.D(), r.Minute.D(), r.Hour.D()
	o.Retention.Results, o.Retention.Events = r.Results.D(), r.Events.D()
	return fleet.NewHub(o)
}

// hubName names this hub among the site's hubs: fleet.name, else
// fleet.host, else the short host name.
func hubName(f *config.Fleet) string {
	if f.Name != "" {
		return f.Name
	}
	if f.Host != "" {
		return f.Host
	}
	hostname, _ := os.Hostname()
	return config.FleetHostFrom(hostname)
}

// alertHost is the host label of this dashd's own alerts: on a hub with
// fleet.host set that name, the one its fleet pages show it under
// (fleetview's LocalName), so that a route's hosts: globs see one name
// for it everywhere; else the host name.
func alertHost(cfg *config.Config, hostname string) string {
	if cfg.Fleet != nil && cfg.Fleet.Host != "" {
		return cfg.Fleet.Host
	}
	return hostname
}

// fleetHostLabels gives the alerter the fleet hosts' labels (nil without
// a fleet: a nil *Registry must not become a non-nil interface).
func fleetHostLabels(h *fleet.Hub) alert.HostLabels {
	if h == nil {
		return nil
	}
	return h.Registry()
}

// runFleetHub is the hub's part in the daemon's group; without a fleet
// it only waits for the stop.
func runFleetHub(h *fleet.Hub) func(context.Context) error {
	if h == nil {
		return func(ctx context.Context) error { <-ctx.Done(); return nil }
	}
	return h.Run
}

// newFleetActions builds the hubs' shared actions when this dashd is a
// hub (nil otherwise): its outbox is fleet-actions.db beside the data
// file, and the other hubs' chat messages are stored in store and shown
// on the pages streamed by live. A hub without a name (fleet.name, and
// no usable host name) shares nothing, with a warning: a nameless hub
// could not tell its own actions from the others'.
//
// The other hubs' incident actions and silences are carried out through
// the incident Manager and the alerter, given with SetTargets once they
// are built (the Manager is built with these Actions as its Sharer: see
// incidentSharer).
func newFleetActions(h *fleet.Hub, cfg *config.Config, store *storage.DB, live *hub.Hub, log *slog.Logger) (*fleet.Actions, error) {
	if h == nil {
		return nil, nil
	}
	if hubName(cfg.Fleet) == "" {
		log.Warn("this hub has no name (set fleet.name): chat, incidents and silences are not shared with other hubs")
		return nil, nil
	}
	return fleet.NewActions(fleet.ActionsOptions{Hub: h, Store: store, Push: view.ChatPush{Hub: live},
		SilenceIndex: store,
		SpoolPath:    filepath.Join(filepath.Dir(cfg.Storage.Path), "fleet-actions.db"),
		Logger:       log.With("part", "fleet-actions")})
}

// incidentSharer is the incident Manager's Sharer: the Actions, or nil
// (a nil interface, not a nil *Actions in one) on a dashd that shares
// nothing.
func incidentSharer(a *fleet.Actions) incident.Sharer {
	if a == nil {
		return nil
	}
	return a
}

// hostEvents hands the agents' events the fleet ingester stored to the
// alerter (their alerts) and then to the incident Manager (their
// incidents, subjects "<check>@<host>" and, for the agents' rule alerts,
// "rule:<rule>[:<instance>]@<host>", the alerter's key for them). An
// error from either leaves the message unacknowledged: both take a
// repeat without harm.
type hostEvents struct {
	alerts    fleet.HostAlerter
	incidents *incident.Manager
}

// HostEvent implements fleet.HostAlerter (al is the agent's own alert of
// an event of kind alert, the alerter's alone).
func (h hostEvents) HostEvent(ctx context.Context, host string, e model.Event, al *model.Alert) error {
	if err := h.alerts.HostEvent(ctx, host, e, al); err != nil {
		return err
	}
	return h.incidents.HostEvent(ctx, host, e)
}

// runFleetActions is the shared actions' part in the daemon's group;
// without them it only waits for the stop.
func runFleetActions(a *fleet.Actions) func(context.Context) error {
	if a == nil {
		return func(ctx context.Context) error { <-ctx.Done(); return nil }
	}
	return a.Run
}

// serverStore is the store the HTTP server writes through: store itself,
// or on a hub that shares actions, store with chat shared (sharedStore).
func serverStore(store *storage.DB, a *fleet.Actions) server.Store {
	if a == nil {
		return store
	}
	return sharedStore{DB: store, actions: a}
}

// sharedStore stores a chat message here first, then hands it to the
// other hubs (Actions.Chat puts it in the outbox); everything else is
// the storage.DB's own, so the server's optional interfaces (the fleet
// pages' host reads) still hold.
type sharedStore struct {
	*storage.DB
	actions *fleet.Actions
}

// AddChat stores m and shares it; a message that could not be shared is
// still stored and shown here (Chat logs why).
func (s sharedStore) AddChat(ctx context.Context, m model.ChatMessage) (model.ChatMessage, error) {
	m, err := s.DB.AddChat(ctx, m)
	if err == nil {
		_ = s.actions.Chat(m)
	}
	return m, err
}

// serverAlerts is the alerter the HTTP server acts through: the alerter
// itself, or on a hub that shares actions, the alerter with silences
// shared (sharedAlerts). The server makes and expires silences through
// the alerter (so they hold back alerts at once), never through its
// store, which is why they are shared here and not in sharedStore. The
// other hubs' silences reach the alerter itself: never shared again.
func serverAlerts(alerter *alert.Alerter, store *storage.DB, a *fleet.Actions) server.Alerting {
	if a == nil {
		return alerter
	}
	return sharedAlerts{Alerter: alerter, store: store, actions: a}
}

// sharedAlerts makes and expires silences here first, then hands them to
// the other hubs (into the outbox); everything else is the alerter's own.
type sharedAlerts struct {
	*alert.Alerter
	store   *storage.DB
	actions *fleet.Actions
}

// AddSilence makes s here and shares it; one that could not be shared
// still holds here (ShareSilence logs why).
func (s sharedAlerts) AddSilence(ctx context.Context, sil model.Silence) (model.Silence, error) {
	stored, err := s.Alerter.AddSilence(ctx, sil)
	if err == nil {
		_ = s.actions.ShareSilence(stored)
	}
	return stored, err
}

// ExpireSilence ends silence id here and shares that, naming the silence
// by where it was made (here or another hub), so every hub finds its own
// copy.
func (s sharedAlerts) ExpireSilence(ctx context.Context, id uint64, by, addr string) error {
	sil, known, err := s.store.Silence(id)
	if err != nil {
		return fmt.Errorf("expire silence %d: %w", id, err)
	}
	if err := s.Alerter.ExpireSilence(ctx, id, by, addr); err != nil {
		return err
	}
	if known && sil.Expired.IsZero() {
		_ = s.actions.ShareSilenceExpiry(sil, by, time.Now())
	}
	return nil
}
