package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
)

// ReopenGrace is how soon after an incident resolved a failure of
// something it involved reopens it instead of opening a new one. Five
// minutes covers what usually comes back: a restart that did not hold, a
// fix that fell over under load, a flap slower than the checks' damping.
// One incident with the whole story (and its first acknowledgement, its
// true time to resolve) beats two halves.
const ReopenGrace = 5 * time.Minute

// Bounds.
const (
	// MaxText bounds a note, a chat line or a summary, in bytes.
	MaxText = 4096
	// MaxUser bounds a user name and MaxAddress a client address.
	MaxUser    = 128
	MaxAddress = 256
	// MaxEntries bounds an incident's timeline: beyond it people's notes
	// and chat are refused (ErrFull) and dashd's own entries are left out
	// (the incident itself still follows what fails). A check flapping
	// for days in a held incident must not grow it without end.
	MaxEntries = 10_000
	// maxTitle bounds a title: the opening failure's summary, cut.
	maxTitle = 200
)

// Store is the storage incidents live in (a *storage.DB).
type Store interface {
	CreateIncident(ctx context.Context, inc model.Incident, entries ...model.IncidentEntry) (model.Incident, []model.IncidentEntry, error)
	UpdateIncident(ctx context.Context, inc model.Incident, entries ...model.IncidentEntry) (model.Incident, []model.IncidentEntry, error)
	AddIncidentEntries(ctx context.Context, id uint64, entries ...model.IncidentEntry) ([]model.IncidentEntry, error)
	Incident(id uint64) (model.Incident, bool, error)
	Incidents(before uint64, limit int) ([]model.Incident, error)
	OpenIncidents() ([]model.Incident, error)
	IncidentEntries(id, after uint64, limit int) ([]model.IncidentEntry, error)
	IncidentsOf(check string, since time.Time, limit int) ([]model.Incident, error)
	// Deliveries are the outbox's finished items, newest first: who was
	// told what.
	Deliveries(limit int) ([]model.OutboxItem, error)
}

// Recorder is the flow people's actions are recorded through (a
// *flow.Recorder).
type Recorder interface {
	Event(e model.Event)
}

// Checks is the checks' live state (a *collectors.Runner), read after the
// subscription dropped messages.
type Checks interface {
	Status(name string) (collectors.Status, bool)
}

// Hub is where the live pages are reached (a *hub.Hub).
type Hub interface {
	BroadcastToRoom(room string, events ...hub.Event)
}

// View renders what the Manager pushes to the live pages; the UI supplies
// it (its ui components, through package view). Both run on the Manager's
// goroutine and must not call it.
type View interface {
	// Entry is what the room of an incident's page gets when an entry
	// is added (inc is the incident as of after the entry).
	Entry(ctx context.Context, inc model.Incident, e model.IncidentEntry) []hub.Event
	// Open is what the dashboard and the incidents page get when an open
	// incident changed: every open incident, newest first (empty when the
	// last resolved).
	Open(ctx context.Context, open []model.Incident) []hub.Event
}

// Options configures a Manager. Store, Recorder and Events are required.
type Options struct {
	Store    Store
	Recorder Recorder
	// Events is the Manager's subscription to the flow.
	Events *flow.Subscription
	// Checks, when set, is read after the subscription dropped messages.
	Checks Checks
	// Hub and View, when both are set, carry changes to the live pages.
	Hub  Hub
	View View
	// Sharer, when set, hands what people do here to the other hubs of
	// the site (see share.go). Leave it nil (not a nil pointer in an
	// interface) on a dashd that shares nothing.
	Sharer Sharer
	// DeliveryPoll is how often the outbox's finished items are read
	// while an incident is open or just ended (default 5s).
	DeliveryPoll time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Manager opens, follows and resolves incidents and carries out what
// people do to them. Create it with New, run it with Run; its methods are
// safe for concurrent use.
type Manager struct {
	o   Options
	log *slog.Logger

	// reqs carries people's actions to Run's goroutine; stopped is closed
	// when Run returns.
	reqs    chan request
	stopped chan struct{}
	running atomic.Bool

	// Published by Run's goroutine for readers elsewhere: the open
	// incidents (newest first) and who acknowledged which alert key.
	openSnap atomic.Pointer[[]model.Incident]
	ackSnap  atomic.Pointer[map[string]string]

	// Owned by Run's goroutine (New fills them before it starts).
	open    map[uint64]model.Incident // open incidents by ID
	recent  map[uint64]model.Incident // resolved within recentFor
	cursor  deliveryCursor
	dropped uint64
	// hostSeen is the last fleet host check event followed, by kind and
	// subject: a redelivered one is not followed twice (see HostEvent).
	hostSeen map[string]seenEvent

	// polls counts the delivery poll timer's firings: tests see that an
	// idle Manager is not woken by it.
	polls atomic.Uint64
}

// request is one action to run on Run's goroutine.
type request struct {
	fn    func(ctx context.Context) error
	reply chan error
}

// New returns a Manager that knows the open incidents, or an error naming
// a missing part or saying why storage could not be read.
func New(o Options) (*Manager, error) {
	if o.Store == nil || o.Recorder == nil || o.Events == nil {
		return nil, errors.New("incident: Store, Recorder and Events are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeliveryPoll <= 0 {
		o.DeliveryPoll = 5 * time.Second
	}
	m := &Manager{o: o, log: o.Logger, reqs: make(chan request), stopped: make(chan struct{}),
		open: map[uint64]model.Incident{}, recent: map[uint64]model.Incident{}, hostSeen: map[string]seenEvent{}}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, nil
}

// load reads the open incidents and those that resolved recently (they
// may reopen, and the messages of their resolution are still on their
// way), and where the deliveries were read up to.
func (m *Manager) load() error {
	open, err := m.o.Store.OpenIncidents()
	if err != nil {
		return fmt.Errorf("incident: load open incidents: %w", err)
	}
	for _, inc := range open {
		m.open[inc.ID] = inc
	}
	latest, err := m.o.Store.Incidents(0, 20)
	if err != nil {
		return fmt.Errorf("incident: load recent incidents: %w", err)
	}
	now := m.o.Now()
	for _, inc := range latest {
		if !inc.IsOpen() && now.Sub(inc.Resolved) < recentFor {
			m.recent[inc.ID] = inc
		}
	}
	if err := m.loadCursor(); err != nil {
		return err
	}
	m.publish()
	return nil
}

// Run follows the flow and carries out people's actions until ctx ends;
// it returns nil then. Run it once.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("incident: Run called twice")
	}
	defer close(m.stopped)
	// The poll timer runs only while something is followed: an idle
	// daemon (no open or recently resolved incident) is not woken by it.
	poll := time.NewTimer(m.o.DeliveryPoll)
	defer poll.Stop()
	polling := m.following()
	if !polling {
		poll.Stop()
	}
	m.dropped = m.o.Events.Dropped()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-m.o.Events.C():
			if d := m.o.Events.Dropped(); d != m.dropped {
				m.dropped = d
				m.reconcile(ctx)
			}
			if msg.Kind == flow.KindEvent {
				m.handle(ctx, msg.Event)
			}
		case r := <-m.reqs:
			r.reply <- r.fn(ctx)
		case <-poll.C:
			polling = false
			m.polls.Add(1)
			if m.following() {
				m.pollDeliveries(ctx)
				m.expireRecent()
			}
		}
		if !polling && m.following() {
			poll.Reset(m.o.DeliveryPoll)
			polling = true
		}
	}
}

// following reports whether the deliveries must be polled: an incident is
// open or resolved recently (its resolution's messages are on their way).
func (m *Manager) following() bool { return len(m.open) > 0 || len(m.recent) > 0 }

// do runs fn on Run's goroutine and returns its error. Should ctx end
// first the action may still be carried out; only its answer is lost.
func (m *Manager) do(ctx context.Context, fn func(ctx context.Context) error) error {
	r := request{fn: fn, reply: make(chan error, 1)}
	select {
	case m.reqs <- r:
	case <-m.stopped:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("incident: %w", ctx.Err())
	}
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("incident: %w", ctx.Err())
	}
}
