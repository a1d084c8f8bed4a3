package view

import "strconv"

// Hub rooms of the live pages: the page handlers put streams in them, the
// scheduler broadcasts to them.
const (
	RoomDashboard   = "dashboard"
	checkRoomPrefix = "check:"
	chatRoomPrefix  = "chat:"
	incidentPrefix  = "incident:"
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

// IncidentRoom is the room of one incident's page ("incident:3"): its
// timeline and its chat, so responders talk where the evidence is.
func IncidentRoom(id uint64) string { return incidentPrefix + strconv.FormatUint(id, 10) }
