package ui

import (
	"net/url"
	"time"

	"github.com/dashd/dashd/model"
)

// View models of the fleet pages (a hub's overview at / and its host
// pages at /hosts/{host}); view.Fleet builds them.

// Element ids and the room of the fleet overview.
const (
	FleetGridID   = "fleet-grid"
	FleetFilterID = "fleet-filter"
)

// FleetTileID is the element id of a host's tile on the overview.
func FleetTileID(host string) string { return "fleet-" + Slug(host) }

// FleetHostHref is a host's page (the hub's own host too).
func FleetHostHref(host string) string { return "/hosts/" + url.PathEscape(host) }

// FleetCheckHref is the page of a check of a fleet host.
func FleetCheckHref(host, check string) string {
	return FleetHostHref(host) + "/checks/" + url.PathEscape(check)
}

// FleetLabel is one label chip: a link to the overview filtered by it.
type FleetLabel struct {
	Key, Value string
	// Active marks a label the overview is filtered by (its chip then
	// links to the overview without it).
	Active bool
}

// Text is "env:prod", the form ?label= takes.
func (l FleetLabel) Text() string { return l.Key + ":" + l.Value }

// FleetTile is one host on the overview. Its fields change only when the
// host's state, a rounded figure or its checks change, so a live
// overview re-sends a tile only then (comparable with ==: no slices but
// Labels, compared by the model's text).
type FleetTile struct {
	Name string
	// Hub marks the hub's own host (its data is the hub's live state).
	Hub bool
	// State is the tile's colour: Down while unreachable or a check is
	// down, else the worst check state.
	State       model.State
	Unreachable bool
	OS          string
	// CPU, Mem and Disk are rounded percentages ("" before the first
	// sample); Disk is the fullest filesystem, DiskMount its mount.
	CPU, Mem, Disk                string
	CPULvl, MemLvl, DiskLvl       string
	DiskMount                     string
	ChecksDown, ChecksBad, Checks int
	// Seen is how long the host has been silent ("" while it reports:
	// the text would change every second), SeenAt when it last spoke.
	Seen   string
	SeenAt time.Time
	Labels []FleetLabel
}

// FleetView is the fleet overview.
type FleetView struct {
	Tiles []FleetTile
	// Filter are the labels the overview is filtered by ("env:prod");
	// Hosts counts the hosts before filtering.
	Filter []string
	Hosts  int
	// Status counts the shown hosts by tile state.
	Status OverallStatus
}

// FleetHostView is a fleet host's page: the dashboard's parts with the
// host's data.
type FleetHostView struct {
	Name        string
	Unreachable bool
	Seen        string
	Labels      []FleetLabel
	Dashboard   DashboardView
}
