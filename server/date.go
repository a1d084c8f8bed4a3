package server

import (
	"context"
	"sync"
	"time"
	// For go:linkname.
	_ "unsafe"

	"github.com/dashd/dashd/internal/grid"
)

// fasthttp writes the Date header from a line it caches and refreshes from
// a goroutine of its own, started on the first response, that sleeps a
// second between refreshes. That wake-up drifts through the second, apart
// from the whole-second grid where host sampling, the checks and the
// scheduler wake the process anyway: on an idle dashd it was one wake-up
// in four. The server refreshes the same line on the grid instead
// (dateOnGrid).
//
// A link to a function fails to build should fasthttp rename it; a link to
// a variable does not (it would quietly become a variable of ours, or
// alias one of another type). TestDateOnGrid fails if fasthttp's refresher
// runs beside the server's, and TestFasthttpVersion pins the fasthttp
// version these links were checked against, so an upgrade is re-checked.
//
//go:linkname fasthttpDateOnce github.com/valyala/fasthttp.serverDateOnce
var fasthttpDateOnce sync.Once

// fasthttpRefreshDate stores the current time's Date line (atomically:
// responses read it concurrently).
//
//go:linkname fasthttpRefreshDate github.com/valyala/fasthttp.refreshServerDate
func fasthttpRefreshDate()

// takeDateLine takes fasthttp's own refresher's place before the first
// response: once its sync.Once has run, fasthttp never starts that
// goroutine, so dateOnGrid must then run while the server serves. Should
// a response have started it already, both refresh the same line.
func takeDateLine() {
	fasthttpRefreshDate() // first: a response after the Once reads the line
	fasthttpDateOnce.Do(func() {})
}

// dateOnGrid keeps fasthttp's Date line current by refreshing it on every
// whole second until ctx ends. A stopped server leaves the line as it
// was, as fasthttp's refresher would for a process that serves no more.
func dateOnGrid(ctx context.Context) {
	t := time.NewTimer(grid.Until(time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fasthttpRefreshDate()
			t.Reset(grid.Until(time.Second))
		}
	}
}
