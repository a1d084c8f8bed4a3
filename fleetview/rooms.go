package fleetview

import (
	"strings"

	"github.com/dashd/dashd/view"
)

// Room prefixes of the fleet pages (hub.RoomKind: "fleet", "fleethost",
// "fleetcheck": the hub's per-kind stream counts name each).
const (
	overviewPrefix = "fleet:"
	hostPrefix     = "fleethost:"
	checkPrefix    = "fleetcheck:"
)

// OverviewRoom is the room of the overview filtered by filter ("fleet:"
// unfiltered, "fleet:env:prod|role:db").
func OverviewRoom(filter []view.LabelFilter) string {
	parts := make([]string, len(filter))
	for i, f := range filter {
		parts[i] = f.Key + ":" + f.Value
	}
	return overviewPrefix + strings.Join(parts, "|")
}

// filterOfRoom is the filter of an overview room, ok false for other
// rooms.
func filterOfRoom(room string) ([]view.LabelFilter, bool) {
	rest, ok := strings.CutPrefix(room, overviewPrefix)
	if !ok {
		return nil, false
	}
	if rest == "" {
		return nil, true
	}
	f, err := view.ParseLabelFilters(strings.Split(rest, "|"))
	return f, err == nil
}

// HostRoom is the room of a fleet host's page.
func HostRoom(host string) string { return hostPrefix + host }

// hostOfRoom is the host of a host page's room.
func hostOfRoom(room string) (string, bool) {
	h, ok := strings.CutPrefix(room, hostPrefix)
	return h, ok && h != ""
}

// CheckRoom is the room of an agent's check page whose chart shows rng
// ("" when the page fitted its range to the data): the pages of one check
// with one range get the same chart, so they share a room
// ("fleetcheck:web-1/24h/nginx"). Host names hold no '/' (server refuses
// them), so the first two separate the parts and the check keeps its own.
func CheckRoom(host, check, rng string) string {
	return checkPrefix + host + "/" + rng + "/" + check
}

// checkOfRoom is the host, check and range of a check page's room.
func checkOfRoom(room string) (host, check, rng string, ok bool) {
	rest, ok := strings.CutPrefix(room, checkPrefix)
	if !ok {
		return "", "", "", false
	}
	host, rest, ok1 := strings.Cut(rest, "/")
	rng, check, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || host == "" || check == "" {
		return "", "", "", false
	}
	return host, check, rng, true
}
