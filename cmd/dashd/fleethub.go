package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/fleet"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
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
func newFleetActions(h *fleet.Hub, cfg *config.Config, store *storage.DB, live *hub.Hub, log *slog.Logger) (*fleet.Actions, error) {
	if h == nil {
		return nil, nil
	}
	if hubName(cfg.Fleet) == "" {
		log.Warn("this hub has no name (set fleet.name): chat is not shared with other hubs")
		return nil, nil
	}
	return fleet.NewActions(fleet.ActionsOptions{Hub: h, Store: store, Push: view.ChatPush{Hub: live},
		SpoolPath: filepath.Join(filepath.Dir(cfg.Storage.Path), "fleet-actions.db"),
		Logger:    log.With("part", "fleet-actions")})
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
