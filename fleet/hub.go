package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// Store is what the hub needs of storage: ingest, the host registry's
// records, its tiers, and retention.
type Store interface {
	HostStore
	RegistryStore
	PruneHosts(samples, results, events time.Time) (int, error)
	PruneHostTiers(minute, hour time.Time) (int, error)
	HostTierRange(host, series string, tier storage.Tier, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
}

// HubOptions configures a Hub. Fleet, Store, Events and DataDir are
// required.
type HubOptions struct {
	Fleet *config.Fleet
	Store Store
	// Events takes the registry's reachability events (the recorder).
	Events EventSink
	// DataDir is where the embedded server keeps JetStream (DataDir/nats).
	DataDir string
	// Retention of the hosts' raw window (fleet.hub_raw), minute and hour
	// tiers, results and events (storage.retention's minute, hour,
	// results and events). Samples zero: nothing is pruned.
	Retention struct{ Samples, Minute, Hour, Results, Events time.Duration }
	// HubName names this hub among the site's hubs (fleet.name): its
	// durable consumer is "hub-<HubName>" ("hub" when empty).
	HubName string
	// Alerts, when set, alerts on the agents' events (the alerter); see
	// SetAlerts for an alerter built after the hub.
	Alerts HostAlerter
	// HistoryTimeout bounds a history request to an agent
	// (DefaultHistoryTimeout).
	HistoryTimeout time.Duration
	Logger         *slog.Logger
	// Cluster makes the embedded server a node of a cluster (tests, and
	// later configuration).
	Cluster *ClusterOptions
	// Name names the embedded server (default "dashd-hub").
	Name string
	// Committed, when set, hears of every batch the ingester stored (the
	// fleet pages); see SetCommitted for one built after the hub.
	Committed CommitListener
}

// Hub is the hub's side of the fleet: the embedded NATS server (unless
// fleet.nats.urls names a cluster), the stream, the Ingester and the
// Registry, run and stopped together.
type Hub struct {
	o        HubOptions
	log      *slog.Logger
	registry *Registry

	mu        sync.Mutex
	emb       *Embedded
	nc        *nats.Conn // while Run runs
	alerts    HostAlerter
	committed CommitListener
}

// NewHub returns a Hub, or an error naming a missing part.
func NewHub(o HubOptions) (*Hub, error) {
	if o.Fleet == nil || o.Store == nil || o.Events == nil || o.DataDir == "" {
		return nil, errors.New("fleet: hub needs Fleet, Store, Events and DataDir")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Name == "" {
		o.Name = "dashd-hub"
	}
	r, err := NewRegistry(RegistryOptions{Store: o.Store, Events: o.Events, Intervals: o.Fleet.UnreachableIntervals,
		Logger: o.Logger.With("part", "fleet-hosts")})
	if err != nil {
		return nil, err
	}
	return &Hub{o: o, log: o.Logger, registry: r, alerts: o.Alerts, committed: o.Committed}, nil
}

// SetAlerts makes a the alerter of the agents' events; call it before Run
// (the daemon builds its alerter after the hub, whose registry gives the
// alerter the hosts' labels).
func (h *Hub) SetAlerts(a HostAlerter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alerts = a
}

// SetCommitted makes c hear of every batch the ingester stores; call it
// before Run (the daemon builds its fleet pages after the hub).
func (h *Hub) SetCommitted(c CommitListener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.committed = c
}

// Durable is the name of this hub's consumer of the fleet stream.
func (h *Hub) Durable() string {
	if h.o.HubName == "" {
		return "hub"
	}
	return "hub-" + h.o.HubName
}

// conn is the hub's NATS connection, nil when Run is not running.
func (h *Hub) conn() *nats.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nc
}

// Registry is the hosts registry (for the API).
func (h *Hub) Registry() *Registry { return h.registry }

// Embedded is the running embedded server, nil when there is none (yet).
func (h *Hub) Embedded() *Embedded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.emb
}

// Start starts the embedded server, when the hub uses one, so that a
// busy port fails the daemon's start; Run starts it otherwise.
func (h *Hub) Start() error {
	if !h.o.Fleet.UsesEmbedded() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.emb != nil {
		return nil
	}
	f := h.o.Fleet
	emb, err := StartEmbedded(EmbeddedOptions{Listen: f.NATS.Embedded.Listen, StoreDir: filepath.Join(h.o.DataDir, "nats"),
		MaxStore: int64(f.NATS.Embedded.MaxStore), Agents: f.Agents, Hubs: f.Hubs, TLS: f.NATS.Embedded.TLS, Cluster: h.o.Cluster,
		Name: h.o.Name, Logger: h.log})
	if err != nil {
		return err
	}
	h.emb = emb
	h.log.Info("embedded NATS listening for agents", "url", emb.ClientURL(), "agents", len(f.Agents))
	return nil
}

// Run runs the hub until ctx ends, then stops the ingester and the
// registry, closes the connection and shuts the embedded server down.
func (h *Hub) Run(ctx context.Context) error {
	if err := h.Start(); err != nil {
		return err
	}
	var nc *nats.Conn
	var err error
	if emb := h.Embedded(); emb != nil {
		defer emb.Shutdown()
		nc, err = emb.Connect()
	} else {
		var opts []nats.Option
		if opts, err = HubConnectOptions(h.o.Fleet.NATS, h.log); err == nil {
			nc, err = Connect(h.o.Fleet.NATS.URLs, opts)
		}
	}
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("fleet: jetstream: %w", err)
	}
	h.mu.Lock()
	h.nc = nc
	alerts, committed := h.alerts, h.committed
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.nc = nil
		h.mu.Unlock()
	}()
	in, err := NewIngester(IngestOptions{JS: js, Store: h.o.Store, Stream: h.o.Fleet.Stream, Registry: h.registry,
		Alerts: alerts, Committed: committed, Durable: h.Durable(), Logger: h.log.With("part", "fleet-ingest")})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = f(ctx) // both log their own trouble and return nil
		}()
	}
	run(h.registry.Run)
	run(in.Run)
	run(h.prune)
	wg.Wait()
	return nil
}

// prune applies retention to the hosts' history once at start and then
// every hour, or every half raw window when that is shorter.
func (h *Hub) prune(ctx context.Context) error {
	r := h.o.Retention
	if r.Samples <= 0 {
		return nil
	}
	t := time.NewTicker(min(time.Hour, max(r.Samples/2, time.Second)))
	defer t.Stop()
	keep := func(d time.Duration, now time.Time) time.Time {
		if d <= 0 {
			return time.Time{} // no retention given: keep all
		}
		return now.Add(-d)
	}
	for {
		now := time.Now()
		n, err := h.o.Store.PruneHosts(now.Add(-r.Samples), keep(r.Results, now), keep(r.Events, now))
		if err == nil {
			var m int
			m, err = h.o.Store.PruneHostTiers(keep(r.Minute, now), keep(r.Hour, now))
			n += m
		}
		if err != nil {
			h.log.Warn("fleet retention", "err", err)
		} else if n > 0 {
			h.log.Debug("fleet retention", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
