package system

import (
	"context"
	"errors"
	"reflect"
)

// Runner runs a Sampler and replaces it when Apply brings different
// options (a configuration reload): the daemon runs one Runner for its
// whole life instead of stopping and starting samplers itself.
type Runner struct {
	out   func(Snapshot)
	opts  Options
	apply chan Options // capacity 1: the newest options win
}

// NewRunner returns a Runner that will sample with opts and hand every
// snapshot to out (on the sampler's goroutine, one call at a time).
func NewRunner(opts Options, out func(Snapshot)) *Runner {
	return &Runner{out: out, opts: opts, apply: make(chan Options, 1)}
}

// Apply asks the running Runner to sample with opts from now on. It never
// blocks; options equal to those in use change nothing.
func (r *Runner) Apply(opts Options) {
	for {
		select {
		case r.apply <- opts:
			return
		default:
		}
		select { // replace an Apply not yet taken
		case <-r.apply:
		default:
		}
	}
}

// Run samples until ctx ends; it returns nil then. A change of options
// stops the current sampler (its kept-open /proc files are closed) and
// starts a new one.
func (r *Runner) Run(ctx context.Context) error {
	if r.out == nil {
		return errors.New("system: Runner: nil callback")
	}
	for {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		s := New(r.opts)
		go func() { done <- s.Run(sctx, r.out) }()
		for restart := false; !restart; {
			select {
			case <-ctx.Done():
				cancel()
				return <-done
			case err := <-done:
				cancel()
				if err == nil {
					err = errors.New("system: sampler stopped")
				}
				return err
			case o := <-r.apply:
				if reflect.DeepEqual(o, r.opts) {
					continue
				}
				cancel()
				if err := <-done; err != nil {
					return err
				}
				r.opts, restart = o, true
				s.log.Info("host sampling restarted with new settings", "interval", o.Interval)
			}
		}
	}
}
