package fleetview

import (
	"strings"

	"github.com/dashd/dashd/view"
)

// Room prefixes of the fleet pages (hub.RoomKind: "fleet", "fleethost").
const (
	overviewPrefix = "fleet:"
	hostPrefix     = "fleethost:"
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
