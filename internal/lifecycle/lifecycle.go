// Package lifecycle runs dashd's long-running parts with one shape: each is
// a func(ctx) error that works until its context ends and then returns nil
// (or an error). A Group starts parts in data-flow order and stops them in
// reverse, each one only after everything started after it has returned,
// so no part ever writes into one that is already gone.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Group owns the goroutines of the parts given to Go. Its zero value is not
// usable; call New.
type Group struct {
	log *slog.Logger

	mu      sync.Mutex
	parts   []*part
	stopped bool

	failOnce sync.Once
	failed   chan struct{} // closed when a part returns before Stop
	failErr  error         // set before failed is closed
}

type part struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done is closed
}

// New returns an empty group; log receives each part's end.
func New(log *slog.Logger) *Group {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Group{log: log, failed: make(chan struct{})}
}

// ErrStopped is returned by Go after Stop.
var ErrStopped = errors.New("lifecycle: group stopped")

// Go starts run on a goroutine of its own with a context of its own. A part
// that returns before Stop, with or without an error, is a failure of the
// daemon: Failed fires. Go after Stop returns ErrStopped and runs nothing.
func (g *Group) Go(name string, run func(ctx context.Context) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return ErrStopped
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &part{name: name, cancel: cancel, done: make(chan struct{})}
	g.parts = append(g.parts, p)
	go func() {
		defer close(p.done)
		p.err = safeRun(ctx, run)
		if ctx.Err() == nil { // ended on its own: not asked to stop
			err := p.err
			if err == nil {
				err = errors.New("returned early")
			}
			g.fail(fmt.Errorf("%s: %w", name, err))
		}
	}()
	return nil
}

// safeRun turns a panic of a part into its error: one part must not take
// the process down without the others flushing.
func safeRun(ctx context.Context, run func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	err = run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (g *Group) fail(err error) {
	g.failOnce.Do(func() {
		g.failErr = err
		close(g.failed)
	})
}

// Failed is closed when a part ended before Stop; Err then says which and why.
func (g *Group) Failed() <-chan struct{} { return g.failed }

// Err is the first early end of a part, nil while there is none.
func (g *Group) Err() error {
	select {
	case <-g.failed:
		return g.failErr
	default:
		return nil
	}
}

// Stop ends the parts in reverse start order: each is cancelled and waited
// for before the one started before it. When ctx ends first, the parts not
// yet stopped are cancelled together and Stop returns without waiting for
// them. It returns the parts' errors joined (a part that failed early
// counts once). Stop is idempotent.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return nil
	}
	g.stopped = true
	parts := g.parts
	g.mu.Unlock()

	var errs []error
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		p.cancel()
		select {
		case <-p.done:
			if p.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.name, p.err))
			}
			g.log.Debug("part stopped", "part", p.name)
		case <-ctx.Done():
			var left []string
			for _, q := range parts[:i+1] {
				q.cancel()
				left = append(left, q.name)
			}
			errs = append(errs, fmt.Errorf("lifecycle: stop timed out waiting for %v: %w", left, ctx.Err()))
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}
