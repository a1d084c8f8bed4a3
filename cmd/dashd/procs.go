package main

import (
	"context"
	"log/slog"

	"github.com/dashd/dashd/internal/procs"
	"github.com/dashd/dashd/state"
)

// runProcs is the GOMAXPROCS governor's part (see internal/procs), when on.
// A fleet hub runs without it: every agent reports on the same second, so
// its load comes in bursts that one P would serialise while the average
// stays low.
func runProcs(on bool, latest *state.Latest, log *slog.Logger) func(context.Context) error {
	if !on {
		return func(ctx context.Context) error { <-ctx.Done(); return nil }
	}
	return procs.New(procs.Options{Source: latest, Logger: log.With("part", "procs")}).Run
}
