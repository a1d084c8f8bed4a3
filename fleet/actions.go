package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
	Logger    *slog.Logger
}

// Actions makes several hubs one site: what users do on this hub (chat
// messages so far) goes to the other hubs through the actions stream,
// and what they do on the others is stored here and shown live.
//
// Sending: Chat, called after the local store committed, writes the
// action to the outbox (a Spool of its own) and wakes the sender, which
// publishes with a Nats-Msg-Id and removes it from the outbox once the
// stream has it. Receiving: a durable consumer "actions-<hub>" reads the
// stream from where it left off (a hub that was away catches up), skips
// the hub's own actions, stores each other hub's message under its
// original room, author and time, pushes it to the room's live pages and
// acknowledges it only then. A message already in the room (the same
// time, author and text: a redelivery after a stop between the store and
// the acknowledgement) is acknowledged without storing it again.
type Actions struct {
	o     ActionsOptions
	name  string
	log   *slog.Logger
	spool *Spool
	wake  chan struct{}

	closeOnce sync.Once

	sent, stored, skipped, duplicates, refused atomic.Uint64
}

// ActionStats count what Actions did since it started.
type ActionStats struct {
	// Sent: own actions the stream took. Stored: other hubs' actions
	// stored here. Skipped: own actions read back. Duplicates: other
	// hubs' actions that were stored already. Refused: undecodable.
	Sent, Stored, Skipped, Duplicates, Refused uint64
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
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sp, err := OpenSpool(o.SpoolPath, o.SpoolBytes)
	if err != nil {
		return nil, fmt.Errorf("fleet: actions outbox: %w", err)
	}
	return &Actions{o: o, name: name, log: o.Logger, spool: sp, wake: make(chan struct{}, 1)}, nil
}

// Durable is the name of this hub's consumer of the actions stream.
func (a *Actions) Durable() string { return "actions-" + a.name }

// Stats returns the counters.
func (a *Actions) Stats() ActionStats {
	return ActionStats{Sent: a.sent.Load(), Stored: a.stored.Load(), Skipped: a.skipped.Load(),
		Duplicates: a.duplicates.Load(), Refused: a.refused.Load(), Waiting: a.spool.Len()}
}

// Chat shares m, a chat message this hub has just stored, with the other
// hubs. It returns once m is in the outbox; a failure is logged and
// returned (the message stays stored here, only not shared).
func (a *Actions) Chat(m model.ChatMessage) error {
	msg, err := ChatAction(a.name, m)
	if err == nil {
		err = a.spool.Append([]Message{msg})
	}
	if err != nil {
		a.log.Warn("chat message not shared with the other hubs", "room", m.Room, "id", m.ID, "err", err)
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
	opts, err := ConnectOptions(h.o.Fleet.NATS, "hub", h.log)
	if err != nil {
		return nil, err
	}
	return Connect(h.o.Fleet.NATS.URLs, opts)
}
