// Package notify turns check state changes, and people taking on
// incidents, into notifications: stored (the header bell of every session
// shows them, read state per session) and pushed at once to every session
// with a stream open. It is a subscriber
// of the flow, like the scheduler; the alerter that sends messages out of
// dashd is another.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Store is the storage notifications go to.
type Store interface {
	AddNotification(ctx context.Context, n model.Notification) (model.Notification, error)
	UnreadCount(session string) (int, error)
}

// Hub is where live sessions are reached.
type Hub interface {
	SendToSession(sessionID string, events ...hub.Event)
	// Sessions lists the sessions with a stream open now.
	Sessions() []string
}

// Options configures a Notifier; every field but Logger and Now is required.
type Options struct {
	Store  Store
	Hub    Hub
	Events *flow.Subscription
	Logger *slog.Logger
	Now    func() time.Time
}

// Notifier stores and pushes notifications. Create it with New, run it
// with Run.
type Notifier struct {
	o   Options
	log *slog.Logger
}

// New returns a Notifier, or an error naming a missing part.
func New(o Options) (*Notifier, error) {
	if o.Store == nil || o.Hub == nil || o.Events == nil {
		return nil, errors.New("notify: Store, Hub and Events are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Notifier{o: o, log: o.Logger}, nil
}

// Run handles events until ctx ends; it returns nil then.
func (n *Notifier) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-n.o.Events.C():
			if m.Kind == flow.KindEvent {
				n.handle(ctx, m.Event)
			}
		}
	}
}

// For is the notification of an event, and whether there is one. A
// check's state change is news, except a check's first result after a
// start when it is up (every restart would notify each check); so is
// someone taking on an incident ("alice is on incident #3: web is down"):
// everyone else learns that it is handled.
func For(e model.Event) (model.Notification, bool) {
	if e.Kind == model.EventAck {
		return ackNotification(e), true
	}
	if e.Kind != model.EventCheck || e.From == model.StateUnknown && e.To == model.StateUp {
		return model.Notification{}, false
	}
	title := fmt.Sprintf("%s is %s", e.Check, e.To)
	if e.To == model.StateUp {
		title = fmt.Sprintf("%s recovered", e.Check)
	}
	return model.Notification{Time: e.Time, Title: title, Body: e.Reason, Level: e.To, Check: e.Check}, true
}

// ackNotification is the news of an acknowledgement: who is on which
// incident. Its level is neutral (unknown): nothing changed state.
func ackNotification(e model.Event) model.Notification {
	who := e.User
	if who == "" {
		who = "someone"
	}
	what, ok := strings.CutPrefix(e.Reason, model.AckReasonPrefix)
	if !ok || what == "" {
		what = "an incident"
	}
	return model.Notification{Time: e.Time, Title: who + " is on " + what, Level: model.StateUnknown, Check: e.Check}
}

func (n *Notifier) handle(ctx context.Context, e model.Event) {
	note, ok := For(e)
	if !ok {
		return
	}
	stored, err := n.o.Store.AddNotification(ctx, note)
	if err != nil && !errors.Is(err, storage.ErrHeld) {
		n.log.Error("store notification", "check", e.Check, "err", err)
		return
	}
	if err == nil {
		note = stored
	}
	row := view.NotificationRow(storage.SessionNotification{Notification: note}, n.o.Now())
	item := hub.PatchComponent(ctx, ui.NotificationItem(row),
		hub.WithSelector("#"+ui.NotifListID), hub.WithMergeMode(hub.ModePrepend))
	empty := hub.RemoveElements("#" + ui.NotifListID + " > .empty")
	// Only sessions with a stream open now: the others get their count
	// from the on-connect state when they come back.
	for _, id := range n.o.Hub.Sessions() {
		unread, err := n.o.Store.UnreadCount(id)
		if err != nil {
			n.log.Warn("unread count", "err", err)
			continue
		}
		n.o.Hub.SendToSession(id, empty, item, hub.PatchSignals(map[string]int{"unreadCount": unread}))
	}
}
