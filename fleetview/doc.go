// Package fleetview reads a hub's hosts for the fleet pages and keeps
// them live: Fleet loads the overview and the host pages (the agents'
// state from storage, the hub's own from its live state) and, in Run,
// pushes what changed to the streams of the fleet rooms.
//
// # Rooms
//
// An overview stream is in room "fleet:" followed by its label filter
// (OverviewRoom); a host page's in "fleethost:<host>" (HostRoom); an
// agent's check page's in "fleetcheck:<host>/<range>/<check>" (CheckRoom).
// Run looks once per interval while any such room has a stream, and
// sends each room only what changed since it last sent: a tile, or the
// whole grid when hosts came, went or changed places; a host page's
// stat values as signals and its fragments when their model changed; a
// check page's fragments when the check has a newer result or the host a
// newer event (see checklive.go). A stream that (re)connects gets the
// full state from the handler (OverviewState, HostState, CheckState).
//
// # The overview's agents
//
// The hub's ingester hands its Fleet every batch it stored
// (HostsCommitted, a fleet.CommitListener). While the overview is
// watched, the Fleet keeps each agent's newest sample, newest result per
// check and last events in memory from those batches, read from storage
// once per agent and again every few minutes (latest.go): a tick reads
// the host records, not every agent's history. A Fleet nobody feeds (a
// request's) reads storage every time.
//
// # The hub's own host
//
// The hub samples and checks itself like any dashd: it is one host of
// the fleet, named fleet.host (default: the host name) with fleet.labels,
// marked "hub", built from its live state rather than storage. An agent
// that publishes under the hub's own name is hidden behind it.
package fleetview
