package fleet

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// ActionKind is what a shared action carries, the last token of its
// subject.
type ActionKind string

// The kinds of action hubs share: chat messages, what people do to
// incidents (named by an incident.Ref, since each hub numbers its own
// incidents), and silences made and expired.
const (
	ActionChat          ActionKind = "chat"
	ActionIncident      ActionKind = "incident"
	ActionSilence       ActionKind = "silence"
	ActionSilenceExpire ActionKind = "silence-expire"
)

// Where the hubs' actions travel. The prefix is not "dashd", so no agent
// (allowed only dashd.<host>.>) may publish an action, and the fleet
// stream (dashd.*.*) does not take them.
const (
	ActionPrefix      = "dashd-hub.action"
	ActionSubjects    = ActionPrefix + ".>"
	ActionsStreamName = "DASHD_HUB_ACTIONS"
	// ActionsMaxBytes bounds the actions stream (it is reserved on the
	// NATS server beside the fleet stream's fleet.stream.max_bytes).
	ActionsMaxBytes = int64(config.FleetActionsBytes)
	// maxActionMessage bounds one action on the wire.
	maxActionMessage = 64 << 10
	// maxChatAuthor bounds a shared chat message's author (its text is
	// held to model.CleanChatText, as the chat page holds its own).
	maxChatAuthor = 256
)

// ActionSubject is where hub publishes actions of kind k:
// dashd-hub.action.<hub>.<kind>. The origin hub is in the subject, so a
// hub skips its own actions without decoding them.
func ActionSubject(hub string, k ActionKind) string {
	return ActionPrefix + "." + hub + "." + string(k)
}

// ParseActionSubject splits an action subject into its origin hub and
// kind, refusing anything else.
func ParseActionSubject(subject string) (string, ActionKind, error) {
	rest, ok := strings.CutPrefix(subject, ActionPrefix+".")
	hub, kind, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return "", "", fmt.Errorf("%w: subject %q is not %s.<hub>.<kind>", ErrBadMessage, subject, ActionPrefix)
	}
	if !config.ValidFleetHost(hub) {
		return "", "", fmt.Errorf("%w: subject %q: %s", ErrBadMessage, subject, config.FleetHostRule)
	}
	switch k := ActionKind(kind); k {
	case ActionChat, ActionIncident, ActionSilence, ActionSilenceExpire:
		return hub, k, nil
	}
	return "", "", fmt.Errorf("%w: subject %q: unknown action %q", ErrBadMessage, subject, kind)
}

// ActionsStreamConfig is the actions stream: every hub's actions, kept as
// long as the fleet stream keeps its messages (fleet.stream.max_age), so
// a hub that was away catches up.
func ActionsStreamConfig(c config.FleetStream) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        ActionsStreamName,
		Description: "dashd hubs: what users do on one hub (chat, incidents, silences), for the others",
		Subjects:    []string{ActionSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge.D(),
		MaxBytes:    ActionsMaxBytes,
		MaxMsgSize:  maxActionMessage,
		Replicas:    c.Replicas,
		Duplicates:  c.DuplicateWindow.D(),
	}
}

// chatWire is a chat message between hubs. The id is the origin's own
// (local) one, kept only for the message id.
type chatWire struct {
	Room   string    `json:"room"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
}

// ChatAction is the message that shares chat message m, stored on hub,
// with the other hubs. Its id (hub, local id and time) is the same every
// time the message is published, so a re-publish within the stream's
// duplicate window is stored once.
func ChatAction(hub string, m model.ChatMessage) (Message, error) {
	data, err := json.Marshal(chatWire{Room: m.Room, Author: m.Author, Text: m.Text, Time: m.Time})
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode chat message: %w", err)
	}
	id := hub + ":chat:" + strconv.FormatUint(m.ID, 36) + ":" + strconv.FormatInt(m.Time.UnixNano(), 36)
	return Message{Subject: ActionSubject(hub, ActionChat), ID: id, Data: data}, nil
}

// DecodeChatAction decodes a shared chat message, refusing one that this
// hub's chat page would refuse (bad room name; a text that
// model.CleanChatText refuses or would change: empty, over 500
// characters, control characters) or could not hold (no time).
func DecodeChatAction(data []byte) (model.ChatMessage, error) {
	var w chatWire
	if err := decodeJSON("chat", data, &w); err != nil {
		return model.ChatMessage{}, err
	}
	clean, problem := model.CleanChatText(w.Text)
	if problem == "" && clean != w.Text {
		problem = "The message has space around it."
	}
	switch {
	case !config.ValidChatRoom(w.Room):
		return model.ChatMessage{}, fmt.Errorf("%w: chat room %q: %s", ErrBadMessage, trunc(w.Room), config.ChatRoomRule)
	case problem != "":
		return model.ChatMessage{}, fmt.Errorf("%w: chat text: %s", ErrBadMessage, problem)
	case len(w.Author) > maxChatAuthor || !utf8.ValidString(w.Author):
		return model.ChatMessage{}, fmt.Errorf("%w: chat author over %d bytes or not UTF-8", ErrBadMessage, maxChatAuthor)
	case w.Time.IsZero():
		return model.ChatMessage{}, fmt.Errorf("%w: chat message without a time", ErrBadMessage)
	}
	return model.ChatMessage{Room: w.Room, Author: w.Author, Text: w.Text, Time: w.Time}, nil
}

// trunc shortens s for an error message.
func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
