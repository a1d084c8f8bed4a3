package fleetview

import (
	"cmp"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/view"
)

// The overview's agents, kept in memory while someone watches.
//
// Reading every agent back from storage every second (its newest sample,
// a scan of its newest results, its last events) cost the hub most of a
// core at 1,000 agents (issue #18). Instead, once the ingester hands
// Fleet its commits (HostsCommitted), the overview reads each agent from
// storage once and then keeps it current from what the ingester stored:
// the per-tick work is proportional to what changed.
//
// Invariants, all under latest.mu:
//   - an entry is only ever newer than storage was when it was read: a
//     commit that lands while an agent is being read (filling) makes the
//     read's result too old to keep, and it is dropped (read again on the
//     next tick);
//   - entries are refreshed from storage every latestRefresh or so
//     (spread per host), which also forgets checks an agent no longer
//     runs;
//   - nobody watching for latestIdle drops the whole cache, and commits
//     cost a map lookup per host while it is empty.

const (
	latestRefresh = 5 * time.Minute
	latestIdle    = time.Minute
	// maxCachedChecks bounds the checks kept per agent; the storage scan
	// that fills an entry (resultScan results) bounds it there.
	maxCachedChecks = 1024
)

// latest is the overview's in-memory state of the agents.
type latest struct {
	mu sync.Mutex
	// fed is set by the first commit heard: until then (a Fleet nobody
	// feeds, such as a request's) every read goes to storage.
	fed     bool
	hosts   map[string]*latestHost
	filling map[string]uint64 // host -> commits heard while it was read
	used    time.Time         // when the overview last read the cache
}

// latestHost is one agent's newest state, and the overview's host built
// from it (rebuilt when dirty).
type latestHost struct {
	sample  model.Sample
	results map[string][]model.Result // newest one per check
	events  []model.Event             // oldest first, at most eventRead
	expires time.Time

	dirty    bool
	info     storage.HostInfo // what built was built with
	snapshot view.FleetHost
}

func newLatest() *latest {
	return &latest{hosts: map[string]*latestHost{}, filling: map[string]uint64{}}
}

// HostsCommitted implements fleet.CommitListener: it brings the watched
// agents' state up to what the ingester just stored. It only takes the
// cache's lock (never storage's) and copies what it keeps.
func (f *Fleet) HostsCommitted(b storage.HostBatch) {
	l := f.latest
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fed = true
	if len(l.hosts) == 0 && len(l.filling) == 0 {
		return
	}
	touch := func(host string) *latestHost {
		if _, ok := l.filling[host]; ok {
			l.filling[host]++
		}
		h := l.hosts[host]
		if h != nil {
			h.dirty = true
		}
		return h
	}
	for _, s := range b.Samples {
		if h := touch(s.Host); h != nil && !s.Sample.Time.Before(h.sample.Time) {
			h.sample = model.Sample{Time: s.Sample.Time, Points: slices.Clone(s.Sample.Points)}
		}
	}
	for _, r := range b.Results {
		h := touch(r.Host)
		if h == nil {
			continue
		}
		old, known := h.results[r.Result.Check]
		if !known && len(h.results) >= maxCachedChecks {
			// An agent inventing check names must not grow the cache:
			// the next tick reads it from storage (a bounded scan).
			h.expires = time.Time{}
			continue
		}
		if len(old) == 0 || !r.Result.Time.Before(old[0].Time) {
			h.results[r.Result.Check] = []model.Result{r.Result}
		}
	}
	for _, e := range b.Events {
		if h := touch(e.Host); h != nil {
			h.events = addEvent(h.events, e.Event, eventRead)
		}
	}
	for _, hello := range b.Hellos {
		touch(hello.Name)
	}
}

// eventOrder orders a host's events as storage keys them: by
// millisecond, then the agent's id (an event is the same one whether
// read back from storage or heard from a commit).
func eventOrder(a, b model.Event) int {
	return cmp.Or(cmp.Compare(a.Time.UnixMilli(), b.Time.UnixMilli()), cmp.Compare(a.ID, b.ID))
}

// addEvent puts e in its place among evs (oldest first), once (a
// redelivered event is already there), keeping the newest limit.
func addEvent(evs []model.Event, e model.Event, limit int) []model.Event {
	i, found := slices.BinarySearchFunc(evs, e, eventOrder)
	if found {
		return evs
	}
	evs = slices.Insert(evs, i, e)
	if len(evs) > limit {
		evs = slices.Delete(evs, 0, len(evs)-limit)
	}
	return evs
}

// overviewHost is agent a as the overview shows it: from the cache when
// the ingester feeds it, else (and to fill it) from storage.
func (f *Fleet) overviewHost(a storage.HostInfo, now time.Time) (view.FleetHost, error) {
	l := f.latest
	l.mu.Lock()
	if !l.fed {
		l.mu.Unlock()
		h, _, _, _, err := f.agent(a.Name, 1)
		return h, err
	}
	l.used = now
	if h := l.hosts[a.Name]; h != nil && now.Before(h.expires) {
		defer l.mu.Unlock()
		return h.build(a), nil
	}
	known := l.checksLocked(a.Name) // a refresh: the scan stops once they are found
	start, reading := l.filling[a.Name]
	if !reading {
		l.filling[a.Name] = 0
	}
	l.mu.Unlock()

	st, ok, err := f.o.Store.HostLatestState(a.Name, resultScan, 1, known...)
	var evs []model.Event
	if err == nil && ok {
		evs, err = f.o.Store.HostEvents(a.Name, eventRead)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	n, still := l.filling[a.Name]
	if !reading {
		delete(l.filling, a.Name)
	}
	if err != nil || !ok {
		return view.FleetHost{}, err
	}
	h := &latestHost{sample: st.Sample, results: st.Results, events: evs, dirty: true,
		expires: now.Add(spread(a.Name, latestRefresh))}
	if still && n == start {
		l.hosts[a.Name] = h // no commit for this host while it was read
	}
	return h.build(a), nil
}

// spread is between d/2 and d, the same for one host every time, so that
// the agents read at once are refreshed at different ticks.
func spread(host string, d time.Duration) time.Duration {
	s := fnv.New32a()
	_, _ = s.Write([]byte(host))
	return d/2 + time.Duration(s.Sum32()%1000)*d/2000
}

// build is the overview's host from h with the record info (the
// registry's: its verdict on reachability is the latest). It rebuilds
// the snapshot and statuses only when h or the host's identity changed.
func (h *latestHost) build(info storage.HostInfo) view.FleetHost {
	if h.dirty || h.info.OS != info.OS || h.info.Kernel != info.Kernel {
		fh := view.FleetHost{Statuses: view.HostStatuses(h.results, h.events)}
		if !h.sample.Time.IsZero() {
			fh.Snapshot, fh.HasSample = view.SnapshotOf(info, h.sample), true
		}
		h.snapshot, h.info, h.dirty = fh, info, false
	}
	out := h.snapshot
	out.Info = info
	return out
}

// forget drops the cache when the overview has not read it for
// latestIdle: nobody watches, and commits cost nothing again.
func (l *latest) forget(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.used) > latestIdle {
		clear(l.hosts)
	}
}

// keepOnly drops the agents not in names (gone from the registry).
func (l *latest) keepOnly(names map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name := range l.hosts {
		if !names[name] {
			delete(l.hosts, name)
		}
	}
}

// checks are the names of host's checks as the cache last knew them (nil
// when it does not hold host): storage's scan for their newest results
// stops once it has found them.
func (l *latest) checks(host string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checksLocked(host)
}

func (l *latest) checksLocked(host string) []string {
	h := l.hosts[host]
	if h == nil {
		return nil
	}
	out := make([]string, 0, len(h.results))
	for name := range h.results {
		out = append(out, name)
	}
	return out
}
