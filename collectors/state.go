package collectors

import (
	"time"

	"github.com/dashd/dashd/model"
)

// severity orders result states for damping: up < degraded < down.
func severity(s model.State) int {
	switch s {
	case model.StateUp:
		return 0
	case model.StateDegraded:
		return 1
	default:
		return 2
	}
}

// tracker turns a check's stream of results into its displayed state (see
// the package documentation, "State"). It is plain data: the Runner guards
// it with its mutex and feeds it results and times, tests feed it sequences.
type tracker struct {
	failAfter, recoverAfter int
	flapWindow              time.Duration
	flapChanges             int

	state model.State
	// fresh: the next result sets the state directly (a new check, or a
	// changed one whose old streaks judged a different configuration).
	fresh bool
	// recent holds the last max(failAfter, recoverAfter) result states, oldest first.
	recent     []model.State
	changes    []time.Time // state changes within flapWindow, oldest first
	lastChange time.Time
	flapping   bool
}

func newTracker(failAfter, recoverAfter int, flapWindow time.Duration, flapChanges int) tracker {
	return tracker{
		failAfter: max(failAfter, 1), recoverAfter: max(recoverAfter, 1),
		flapWindow: flapWindow, flapChanges: flapChanges,
		state: model.StateUnknown, fresh: true,
	}
}

// restart keeps what the dashboard shows (state, flap history) but forgets
// the streaks: a changed configuration starts judging afresh.
func (t tracker) restart(failAfter, recoverAfter int) tracker {
	t.failAfter, t.recoverAfter = max(failAfter, 1), max(recoverAfter, 1)
	t.recent = nil
	t.fresh = true
	return t
}

// observe records one result at now and reports a state change.
func (t *tracker) observe(res model.State, now time.Time) (from, to model.State, changed bool) {
	if severity(res) == 2 {
		res = model.StateDown // unknown results count as down
	}
	t.recent = append(t.recent, res)
	if n := max(t.failAfter, t.recoverAfter); len(t.recent) > n {
		t.recent = append(t.recent[:0], t.recent[len(t.recent)-n:]...)
	}
	from, to = t.state, t.next(res)
	t.fresh = false
	if to != from {
		t.state = to
		t.lastChange = now
		// Leaving unknown is a check starting up, not instability.
		if from != model.StateUnknown {
			t.changes = append(t.changes, now)
		}
	}
	cut := 0
	for cut < len(t.changes) && now.Sub(t.changes[cut]) >= t.flapWindow {
		cut++
	}
	t.changes = t.changes[cut:]
	t.flapping = t.flapChanges > 0 && len(t.changes) >= t.flapChanges
	return from, to, to != from
}

func (t *tracker) next(res model.State) model.State {
	if t.fresh || t.state == model.StateUnknown {
		return res
	}
	cur := severity(t.state)
	// Worse: the best of the last failAfter results is worse than now.
	if len(t.recent) >= t.failAfter {
		best := t.recent[len(t.recent)-t.failAfter:]
		b := best[0]
		for _, s := range best[1:] {
			if severity(s) < severity(b) {
				b = s
			}
		}
		if severity(b) > cur {
			return b
		}
	}
	// Better: the worst of the last recoverAfter results is better than now.
	if len(t.recent) >= t.recoverAfter {
		last := t.recent[len(t.recent)-t.recoverAfter:]
		w := last[0]
		for _, s := range last[1:] {
			if severity(s) > severity(w) {
				w = s
			}
		}
		if severity(w) < cur {
			return w
		}
	}
	return t.state
}
