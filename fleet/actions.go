package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// ChatStore is the part of storage the hubs' shared chat goes through:
// this hub's own chat (never a wrapper that shares again).
type ChatStore interface {
	AddChat(ctx context.Context, m model.ChatMessage) (model.ChatMessage, error)
	ChatLatest(room string, n int) ([]model.ChatMessage, error)
}

// ChatPusher shows a chat message stored from another hub on this hub's
// open pages of its room (view.ChatPush).
type ChatPusher interface {
	PushChat(ctx context.Context, m model.ChatMessage)
}

// ActionsOptions configures Actions. Hub, Store, Push and SpoolPath are
// required.
type ActionsOptions struct {
	// Hub gives the connection (Hub.Connect), the stream settings and
	// this hub's name (HubOptions.HubName, which must be set and unique
	// among the site's hubs: a hub skips the actions of its own name).
	Hub   *Hub
	Store ChatStore
	Push  ChatPusher
	// SpoolPath is the outbox: actions wait there until the stream has
	// them, across restarts and NATS outages.
	SpoolPath string
	// SpoolBytes bounds the outbox (8 MiB; the oldest go first).
	SpoolBytes int64
	// Batch is how many actions one fetch takes at most (64).
	Batch int
	// Retry is the pause after a failed publish or fetch (1s).
	Retry time.Duration
	// DedupScan is how many of a room's newest messages are searched
	// for a copy of a message before it is stored (1000).
	DedupScan int
	// SilenceIndex finds the silences the other hubs' silence actions
	// name (storage); with SetTargets' Silencer it carries them out here.
	SilenceIndex SilenceIndex
	// LaterDelay is how long an action that cannot apply yet (its
	// incident or silence is not here yet: the other hub saw the failure
	// first) waits before it comes again (10s); LaterFor is how long it
	// is tried before it is dropped with a warning (2m: the hubs read
	// the same agents, so by then the incident is here or never will be).
	LaterDelay time.Duration
	LaterFor   time.Duration
	// Host is this hub's name as a fleet host: its own checks and rules
	// are shared qualified with it ("web@<Host>", incident.SiteRef), so
	// they never match another hub's own check of the same name. Default:
	// fleet.host, else the short host name (what an agent on this host
	// is called by default), else the hub's name.
	Host   string
	Logger *slog.Logger
}

// Actions makes several hubs one site: what users do on this hub (chat
// messages, incident actions, silences) goes to the other hubs through
// the actions stream, and what they do on the others is stored here and
// shown live.
//
// Sending: Chat, called after the local store committed, writes the
// action to the outbox (a Spool of its own) and wakes the sender, which
// publishes with a Nats-Msg-Id and removes it from the outbox once the
// stream has it (or drops it with a warning when the stream refuses it
// for good, so it never holds back the rest). Receiving: the durable
// consumers "actions-<hub>" (chat, silences) and "incidents-<hub>"
// (incident actions, which may wait for their incident: a lane of their
// own) read the stream from where they left off (a hub that was away
// catches up), skip the hub's own actions, store each other hub's
// message under its original room, author and time, push it to the
// room's live pages and acknowledge it only then. A message already in the room (the same
// time, author and text: a redelivery after a stop between the store and
// the acknowledgement) is acknowledged without storing it again.
type Actions struct {
	o     ActionsOptions
	name  string
	log   *slog.Logger
	spool *Spool
	wake  chan struct{}

	// incidents and silences are set once before Run (SetTargets).
	incidents IncidentApplier
	silences  Silencer

	closeOnce sync.Once

	sent, stored, skipped, duplicates, refused atomic.Uint64
	moot, retried, unmatched, dropped          atomic.Uint64
}

// ActionStats count what Actions did since it started.
type ActionStats struct {
	// Sent: own actions the stream took. Stored: other hubs' actions
	// stored (applied) here. Skipped: own actions read back. Duplicates:
	// other hubs' actions that were stored already. Refused: undecodable
	// or never applicable.
	Sent, Stored, Skipped, Duplicates, Refused uint64
	// Moot: other hubs' actions with nothing left to do here (the
	// incident resolved here already, the silence ended). Retried: times
	// an action that could not apply yet was put back (no incident here
	// matches it yet). Unmatched: those dropped after LaterFor.
	Moot, Retried, Unmatched uint64
	// Dropped: own actions the stream refused for good (too large, or
	// a bad request), removed from the outbox so the rest go on.
	Dropped uint64
	// Waiting is how many own actions the outbox holds.
	Waiting int
}

// NewActions opens the outbox and returns Actions, or an error naming
// what is missing.
func NewActions(o ActionsOptions) (*Actions, error) {
	if o.Hub == nil || o.Store == nil || o.Push == nil || o.SpoolPath == "" {
		return nil, errors.New("fleet: actions need Hub, Store, Push and SpoolPath")
	}
	name := o.Hub.o.HubName
	if name == "" {
		return nil, errors.New("fleet: sharing actions between hubs needs this hub's name (fleet.name)")
	}
	if o.SpoolBytes <= 0 {
		o.SpoolBytes = 8 << 20
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.DedupScan <= 0 {
		o.DedupScan = 1000
	}
	if o.LaterDelay <= 0 {
		o.LaterDelay = 10 * time.Second
	}
	if o.LaterFor <= 0 {
		o.LaterFor = 2 * time.Minute
	}
	if o.Host == "" {
		o.Host = defaultActionsHost(o.Hub.o.Fleet, name)
	}
	if !config.ValidFleetHost(o.Host) {
		return nil, fmt.Errorf("fleet: actions: this hub's fleet host name %q: %s", o.Host, config.FleetHostRule)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sp, err := OpenSpool(o.SpoolPath, o.SpoolBytes)
	if err != nil {
		return nil, fmt.Errorf("fleet: actions outbox: %w", err)
	}
	return &Actions{o: o, name: name, log: o.Logger, spool: sp, wake: make(chan struct{}, 1)}, nil
}

// defaultActionsHost is ActionsOptions.Host's default: fleet.host, else
// the short host name, else the hub's name.
func defaultActionsHost(f *config.Fleet, hub string) string {
	if f != nil && f.Host != "" {
		return f.Host
	}
	if hostname, err := os.Hostname(); err == nil {
		if h := config.FleetHostFrom(hostname); h != "" {
			return h
		}
	}
	return hub
}

// Durable is the name of this hub's consumer of the actions stream that
// handles chat and silences.
func (a *Actions) Durable() string { return "actions-" + a.name }

// IncidentDurable is the name of this hub's consumer of the actions
// stream that handles incident actions (its own lane: an action waiting
// for its incident never holds back chat and silences). Its prefix is
// not "actions-", so no hub's name makes it another hub's Durable.
func (a *Actions) IncidentDurable() string { return "incidents-" + a.name }

// Stats returns the counters.
func (a *Actions) Stats() ActionStats {
	return ActionStats{Sent: a.sent.Load(), Stored: a.stored.Load(), Skipped: a.skipped.Load(),
		Duplicates: a.duplicates.Load(), Refused: a.refused.Load(), Moot: a.moot.Load(), Retried: a.retried.Load(),
		Unmatched: a.unmatched.Load(), Dropped: a.dropped.Load(), Waiting: a.spool.Len()}
}

// Chat shares m, a chat message this hub has just stored, with the other
// hubs. It returns once m is in the outbox; a failure is logged and
// returned (the message stays stored here, only not shared).
func (a *Actions) Chat(m model.ChatMessage) error {
	msg, err := ChatAction(a.name, m)
	if err == nil {
		err = a.enqueue(msg)
	}
	if err != nil {
		a.log.Warn("chat message not shared with the other hubs", "room", m.Room, "id", m.ID, "err", err)
	}
	return err
}

// enqueue puts msg in the outbox and wakes the sender.
func (a *Actions) enqueue(msg Message) error {
	if err := a.spool.Append([]Message{msg}); err != nil {
		return err
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run connects, sends what the outbox holds and receives the other hubs'
// actions until ctx ends, then closes the connection and the outbox.
func (a *Actions) Run(ctx context.Context) error {
	defer a.close()
	nc, err := a.o.Hub.Connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("fleet: actions: jetstream: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.send(ctx, js) }()
	go func() { defer wg.Done(); a.receive(ctx, js) }()
	wg.Wait()
	return nil
}

// close closes the outbox once; what it holds is sent by the next run.
func (a *Actions) close() {
	a.closeOnce.Do(func() {
		if err := a.spool.Close(); err != nil {
			a.log.Warn("actions outbox", "err", err)
		}
	})
}

// Close closes the outbox of Actions that never ran (Run closes it
// itself when it ends).
func (a *Actions) Close() { a.close() }

// pause waits d or until ctx ends; it reports whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Connect opens a further connection to the hub's NATS, for the parts
// that run beside the hub (Actions): in process to the embedded server
// (started if need be), or to fleet.nats.urls with the hub's
// credentials. The caller closes it.
func (h *Hub) Connect() (*nats.Conn, error) {
	if err := h.Start(); err != nil {
		return nil, err
	}
	if emb := h.Embedded(); emb != nil {
		return emb.Connect(nats.Name("dashd hub actions"))
	}
	opts, err := HubConnectOptions(h.o.Fleet.NATS, h.log)
	if err != nil {
		return nil, err
	}
	return Connect(h.o.Fleet.NATS.URLs, opts)
}
