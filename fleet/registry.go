package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// RegistryStore is the part of storage the Registry reads and writes.
type RegistryStore interface {
	Hosts() ([]storage.HostInfo, error)
	SetHostUnreachable(host string, since time.Time) error
}

// EventSink takes the registry's events: the flow.Recorder, which stores
// them and fans them out to the alerter, incidents and the live pages.
type EventSink interface {
	Event(model.Event)
}

// RegistryOptions configures a Registry. Store and Events are required.
type RegistryOptions struct {
	Store  RegistryStore
	Events EventSink
	// Intervals is how many sample intervals without a word make a host
	// unreachable (fleet.unreachable_intervals).
	Intervals int
	// MinInterval is the interval assumed for a host whose hello did not
	// say (and the floor of every host's): 1s.
	MinInterval time.Duration
	// Every is how often hosts are checked (1s).
	Every  time.Duration
	Clock  func() time.Time
	Logger *slog.Logger
}

// Registry knows every host of the fleet, when it was last heard from,
// and whether it is unreachable. Its state is guarded by mu; it calls
// Store and Events without holding it.
type Registry struct {
	o   RegistryOptions
	log *slog.Logger

	// checkMu serialises check (the ticker's and Seen's), so a host's
	// events go out in the order its state changed.
	checkMu sync.Mutex
	mu      sync.Mutex
	hosts   map[string]*storage.HostInfo
}

// NewRegistry returns a Registry, or an error naming a missing part.
func NewRegistry(o RegistryOptions) (*Registry, error) {
	if o.Store == nil || o.Events == nil {
		return nil, errors.New("fleet: registry needs Store and Events")
	}
	if o.Intervals < 2 {
		o.Intervals = 5
	}
	if o.MinInterval <= 0 {
		o.MinInterval = time.Second
	}
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{o: o, log: o.Logger, hosts: map[string]*storage.HostInfo{}}, nil
}

// Hello records what a host said about itself.
func (r *Registry) Hello(h Hello) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hi := r.host(h.Host)
	hi.OS, hi.Kernel, hi.Version, hi.Labels = h.OS, h.Kernel, h.Version, h.Labels
	hi.Interval = time.Duration(h.IntervalMs) * time.Millisecond
}

// Seen records that host was heard from at t.
func (r *Registry) Seen(host string, t time.Time) {
	r.mu.Lock()
	hi := r.host(host)
	if hi.FirstSeen.IsZero() {
		hi.FirstSeen = t
	}
	if t.After(hi.LastSeen) {
		hi.LastSeen = t
	}
	r.mu.Unlock()
	r.check() // a host back from unreachable says so at once
}

// host returns the entry of name, creating it; r.mu is held.
func (r *Registry) host(name string) *storage.HostInfo {
	hi, ok := r.hosts[name]
	if !ok {
		hi = &storage.HostInfo{Name: name}
		r.hosts[name] = hi
	}
	return hi
}

// Hosts lists the hosts by name.
func (r *Registry) Hosts() []storage.HostInfo {
	r.mu.Lock()
	out := make([]storage.HostInfo, 0, len(r.hosts))
	for _, h := range r.hosts {
		out = append(out, *h)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// HostLabels returns the labels host's hello gave (nil for a host not
// heard of): the alerter adds them to the host's alerts so that routes
// can tell env: prod from env: test.
func (r *Registry) HostLabels(host string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.hosts[host]; ok {
		return h.Labels
	}
	return nil
}

// Limit is how long host may stay silent before it is unreachable.
func (r *Registry) Limit(h storage.HostInfo) time.Duration {
	return time.Duration(r.o.Intervals) * max(h.Interval, r.o.MinInterval)
}

// Run loads the known hosts from storage (their silence counts from
// now: the hub itself was away) and checks them every Every until ctx
// ends.
func (r *Registry) Run(ctx context.Context) error {
	known, err := r.o.Store.Hosts()
	if err != nil {
		r.log.Warn("known fleet hosts not read; they appear as they report", "err", err)
	}
	now := r.o.Clock()
	r.mu.Lock()
	for _, h := range known {
		if _, ok := r.hosts[h.Name]; !ok {
			h := h
			if h.UnreachableSince.IsZero() && h.LastSeen.Before(now) {
				h.LastSeen = now
			}
			r.hosts[h.Name] = &h
		}
	}
	r.mu.Unlock()
	t := time.NewTicker(r.o.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.check()
		}
	}
}

// check turns silent hosts unreachable and heard ones reachable, with an
// event and a stored mark each.
func (r *Registry) check() {
	r.checkMu.Lock()
	defer r.checkMu.Unlock()
	now := r.o.Clock()
	type change struct {
		host  string
		down  bool
		since time.Time
		quiet time.Duration
	}
	var changes []change
	r.mu.Lock()
	for _, h := range r.hosts {
		quiet := now.Sub(h.LastSeen)
		switch limit := r.Limit(*h); {
		case h.UnreachableSince.IsZero() && quiet > limit:
			h.UnreachableSince = now
			changes = append(changes, change{h.Name, true, now, quiet.Truncate(time.Second)})
		case !h.UnreachableSince.IsZero() && quiet <= limit:
			changes = append(changes, change{host: h.Name, quiet: now.Sub(h.UnreachableSince).Truncate(time.Second)})
			h.UnreachableSince = time.Time{}
		}
	}
	r.mu.Unlock()
	for _, c := range changes {
		if err := r.o.Store.SetHostUnreachable(c.host, c.since); err != nil {
			r.log.Warn("host state not stored", "host", c.host, "err", err)
		}
		e := model.Event{Time: now, Kind: model.EventHost, Check: c.host}
		if c.down {
			e.From, e.To, e.Reason = model.StateUp, model.StateDown, fmt.Sprintf("%s unreachable: not heard from for %s", c.host, c.quiet)
			r.log.Warn("fleet host unreachable", "host", c.host, "silent", c.quiet)
		} else {
			e.From, e.To, e.Reason = model.StateDown, model.StateUp, fmt.Sprintf("%s reachable again after %s", c.host, c.quiet)
			r.log.Info("fleet host reachable again", "host", c.host, "after", c.quiet)
		}
		r.o.Events.Event(e)
	}
}
