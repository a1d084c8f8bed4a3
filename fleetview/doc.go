// Package fleetview reads a hub's hosts for the fleet pages and keeps
// them live: Fleet loads the overview and the host pages (the agents'
// state from storage, the hub's own from its live state) and, in Run,
// pushes what changed to the streams of the fleet rooms.
//
// # Rooms
//
// An overview stream is in room "fleet:" followed by its label filter
// (OverviewRoom); a host page's in "fleethost:<host>" (HostRoom). Run
// polls storage once per interval while any such room has a stream, and
// sends each room only what changed since it last sent: a tile, or the
// whole grid when hosts came, went or changed places; a host page's stat
// values as signals and its fragments when their model changed. A stream
// that (re)connects gets the full state from the handler (OverviewState,
// HostState).
//
// # The hub's own host
//
// The hub samples and checks itself like any dashd: it is one host of
// the fleet, named fleet.host (default: the host name) with fleet.labels,
// marked "hub", built from its live state rather than storage. An agent
// that publishes under the hub's own name is hidden behind it.
package fleetview
