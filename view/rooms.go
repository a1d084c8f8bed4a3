package view

// Hub rooms of the live pages: the page handlers put streams in them, the
// scheduler broadcasts to them.
const (
	RoomDashboard   = "dashboard"
	checkRoomPrefix = "check:"
	chatRoomPrefix  = "chat:"
)

// CheckRoom is the room of one check's detail page.
func CheckRoom(name string) string { return checkRoomPrefix + name }

// CheckOfRoom is the check a room belongs to, and whether it is a check's.
func CheckOfRoom(room string) (string, bool) {
	if len(room) > len(checkRoomPrefix) && room[:len(checkRoomPrefix)] == checkRoomPrefix {
		return room[len(checkRoomPrefix):], true
	}
	return "", false
}

// ChatRoom is the room of a chat room (kept apart from check rooms).
func ChatRoom(name string) string { return chatRoomPrefix + name }
