package view

import (
	"context"
	"time"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// NotificationsShown is how many notifications the header panel lists.
const NotificationsShown = 20

// NotificationStore is the storage the notification panel reads.
type NotificationStore interface {
	Notifications(session string, limit int) ([]storage.SessionNotification, error)
	UnreadCount(session string) (int, error)
}

// Notifications returns a session's latest notifications and its unread
// count.
func Notifications(store NotificationStore, session string, now time.Time) ([]ui.NotificationRow, int, error) {
	ns, err := store.Notifications(session, NotificationsShown)
	if err != nil {
		return nil, 0, err
	}
	unread, err := store.UnreadCount(session)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]ui.NotificationRow, 0, len(ns))
	for _, n := range ns {
		rows = append(rows, NotificationRow(n, now))
	}
	return rows, unread, nil
}

// SessionState is the events that bring a session's stream up to date on
// its notifications.
func SessionState(ctx context.Context, rows []ui.NotificationRow, unread int) []hub.Event {
	return []hub.Event{
		hub.PatchComponent(ctx, ui.NotificationList(rows)),
		hub.PatchSignals(map[string]int{"unreadCount": unread}),
	}
}
