package config

import "regexp"

// Chat bounds the dashboard chat, which any visitor can write to: how many
// rooms, how fast, and how much storage it may take.
type Chat struct {
	// Rooms lists the allowed room names; empty allows any valid name, up
	// to MaxRooms rooms.
	Rooms []string `yaml:"rooms"`
	// MaxRooms caps the rooms that may exist when Rooms is empty.
	MaxRooms int `yaml:"max_rooms"`
	// MessagesPerMinute is the rate allowed to one browser session.
	MessagesPerMinute int `yaml:"messages_per_minute"`
	// MessagesPerMinutePerAddress is the rate allowed to one client address,
	// whatever the number of sessions it opens.
	MessagesPerMinutePerAddress int `yaml:"messages_per_minute_per_address"`
	// MaxStorage is the storage budget of all chat history; the oldest
	// messages go first when it is reached.
	MaxStorage ByteSize `yaml:"max_storage"`
}

// DefaultChat is the chat configuration when the file says nothing.
func DefaultChat() Chat {
	return Chat{
		MaxRooms:                    20,
		MessagesPerMinute:           20,
		MessagesPerMinutePerAddress: 60,
		MaxStorage:                  32 * MB,
	}
}

// Bounds of the chat settings.
const (
	MaxChatRooms         = 1000
	MinChatStorage       = 64 * KB
	MaxChatStorage       = 100 * GB
	maxMessagesPerMinute = 600
	maxMessagesPerAddr   = 6000
)

// chatRoomRE is the one rule for chat room names: they appear in URLs
// (/chat/{room}) and as storage keys.
var chatRoomRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ChatRoomRule says in words what ValidChatRoom accepts, for messages.
const ChatRoomRule = "chat room names are 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit"

// ValidChatRoom reports whether name is a valid chat room name. The server
// uses the same rule for the rooms clients ask for.
func ValidChatRoom(name string) bool { return chatRoomRE.MatchString(name) }

func (c Chat) validate(sc Scope) {
	seen := map[string]int{}
	for i, r := range c.Rooms {
		item := sc.Index("rooms", i)
		switch first, dup := seen[r]; {
		case !ValidChatRoom(r):
			item.Errorf("", "%q: %s", r, ChatRoomRule)
		case dup:
			item.Errorf("", "duplicate room %q (first listed as rooms[%d])", r, first)
		default:
			seen[r] = i
		}
	}
	if len(c.Rooms) > MaxChatRooms {
		sc.Errorf("rooms", "at most %d rooms, got %d", MaxChatRooms, len(c.Rooms))
	}
	if c.MaxRooms < 1 || c.MaxRooms > MaxChatRooms {
		sc.Errorf("max_rooms", "must be between 1 and %d, got %d", MaxChatRooms, c.MaxRooms)
	} else if len(c.Rooms) > c.MaxRooms && sc.Has("max_rooms") {
		sc.Errorf("max_rooms", "is %d but rooms lists %d: raise it, or drop it (it only applies when rooms is empty)", c.MaxRooms, len(c.Rooms))
	}
	if c.MessagesPerMinute < 1 || c.MessagesPerMinute > maxMessagesPerMinute {
		sc.Errorf("messages_per_minute", "must be between 1 and %d, got %d", maxMessagesPerMinute, c.MessagesPerMinute)
	}
	if c.MessagesPerMinutePerAddress < 1 || c.MessagesPerMinutePerAddress > maxMessagesPerAddr {
		sc.Errorf("messages_per_minute_per_address", "must be between 1 and %d, got %d", maxMessagesPerAddr, c.MessagesPerMinutePerAddress)
	}
	if c.MaxStorage < MinChatStorage || c.MaxStorage > MaxChatStorage {
		sc.Errorf("max_storage", "must be between %s and %s, got %s", MinChatStorage, MaxChatStorage, c.MaxStorage)
	}
}

// AllowsRoom reports whether a room of that name may be used: a valid name,
// listed in Rooms when Rooms is set. (The MaxRooms cap on how many rooms
// exist is for the server to count.)
func (c Chat) AllowsRoom(name string) bool {
	if !ValidChatRoom(name) {
		return false
	}
	if len(c.Rooms) == 0 {
		return true
	}
	for _, r := range c.Rooms {
		if r == name {
			return true
		}
	}
	return false
}
