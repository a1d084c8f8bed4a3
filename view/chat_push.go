package view

import (
	"context"
	"time"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// ChatRow is how a stored chat message is shown, written against now.
// The chat page, its live appends and the messages other hubs share
// (ChatPush) all render through it, so a message looks the same wherever
// it was sent.
func ChatRow(m model.ChatMessage, now time.Time) ui.ChatRow {
	return ui.ChatRow{ID: m.ID, At: m.Time, When: ui.FormatWhen(m.Time, now), Author: m.Author, Text: m.Text, Origin: m.Origin}
}

// ChatAppend is the event that appends m to the chat log of the open
// pages of its room.
func ChatAppend(ctx context.Context, m model.ChatMessage, now time.Time) hub.Event {
	return hub.PatchComponent(ctx, ui.ChatMessage(ChatRow(m, now)),
		hub.WithSelector("#"+ui.ChatLogID), hub.WithMergeMode(hub.ModeAppend))
}

// ChatPush shows chat messages stored by someone other than the chat
// page's handler (another hub of the site, via fleet.Actions) on this
// dashd's open pages of their room. It holds no state.
type ChatPush struct {
	Hub *hub.Hub
	// Now is the clock the times are written against (time.Now when nil).
	Now func() time.Time
}

// PushChat appends m, already stored, to its room's live chat logs.
func (p ChatPush) PushChat(ctx context.Context, m model.ChatMessage) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	p.Hub.BroadcastToRoom(ChatRoom(m.Room), ChatAppend(ctx, m, now()))
}
