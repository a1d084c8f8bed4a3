package auth

import (
	"context"
	"errors"
	"time"

	"github.com/dashd/dashd/storage"
)

// Watch registers fn to be called with the key of every session that
// ends, however it ends, after it is deleted from storage; stop
// unregisters it. fn runs on the goroutine that ended the session (a
// request's, or Run's) and must not block: the server closes that
// session's streams. It may call back into Sessions.
func (s *Sessions) Watch(fn func(key string)) (stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextW
	s.nextW++
	s.watchers[id] = fn
	return func() {
		s.mu.Lock()
		delete(s.watchers, id)
		s.mu.Unlock()
	}
}

// Run writes the recorded last-seen times and ends expired sessions at
// once and then every SweepInterval, until ctx ends; then it writes the
// last-seen times one last time (storage must still be open: stop Run
// before closing it) and returns nil.
func (s *Sessions) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	for {
		s.flush(ctx)
		s.sweep(ctx, s.opts.Clock())
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.flush(fctx)
			cancel()
			return nil
		case <-t.C:
		}
	}
}

// flush writes the recorded last-seen times. On failure they are kept for
// the next try (unless newer ones arrived meanwhile).
func (s *Sessions) flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return
	}
	batch := s.pending
	s.pending = make(map[string]touch, len(batch))
	s.mu.Unlock()

	updates := make([]storage.SessionUpdate, 0, len(batch))
	for k, t := range batch {
		updates = append(updates, storage.SessionUpdate{Key: k, LastSeen: t.lastSeen, Expires: t.expires})
	}
	for i := 0; i < len(updates); i += deleteBatch {
		part := updates[i:min(i+deleteBatch, len(updates))]
		if err := s.db.UpdateSessions(ctx, part); err != nil {
			if !errors.Is(err, context.Canceled) {
				s.log.Warn("auth: record sessions' last use", "sessions", len(part), "err", err)
			}
			s.mu.Lock()
			for _, u := range part {
				if _, newer := s.pending[u.Key]; !newer {
					s.pending[u.Key] = batch[u.Key]
				}
			}
			s.mu.Unlock()
		}
	}
}

// sweep ends the sessions expired at now.
func (s *Sessions) sweep(ctx context.Context, now time.Time) {
	list, err := s.db.Sessions("")
	if err != nil {
		s.log.Error("auth: sweep sessions", "err", err)
		return
	}
	var end []string
	s.mu.Lock()
	limits := s.limits
	for _, r := range list {
		r.LastSeen = s.lastSeenLocked(r)
		if !now.Before(expiry(r, limits)) {
			end = append(end, r.Key)
		}
	}
	s.mu.Unlock()
	if err := s.end(ctx, end); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("auth: end expired sessions", "sessions", len(end), "err", err)
	}
}

// end deletes the sessions with these keys and tells the watchers about
// each, including keys storage no longer had (the watchers may still hold
// streams of a session retention removed).
func (s *Sessions) end(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		part := keys[:min(len(keys), deleteBatch)]
		keys = keys[len(part):]
		if _, err := s.db.DeleteSessions(ctx, part...); err != nil {
			return err
		}
		s.mu.Lock()
		for _, k := range part {
			delete(s.pending, k)
		}
		fns := make([]func(string), 0, len(s.watchers))
		for _, fn := range s.watchers {
			fns = append(fns, fn)
		}
		s.mu.Unlock()
		for _, k := range part {
			for _, fn := range fns {
				fn(k)
			}
		}
	}
	return nil
}
