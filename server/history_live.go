package server

import (
	"context"
	"sync"
	"time"

	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// historyTick is how often a history room's feed rebuilds its charts and
// sends what changed: the open slot (a few hundred bytes) most ticks, every
// chart when a slot closed.
const historyTick = 5 * time.Second

// historyFeeds runs one feed per history room that has streams: a
// goroutine that rebuilds the room's view every historyTick and broadcasts
// the patches view.HistoryFeed finds. A feed starts when a stream joins a
// room without one (from the stream's OnConnect, after it joined) and
// ends at the first tick that finds its room empty, or when the app shuts
// down (stop, from fiber's OnShutdown hook, waits for every feed).
//
// Lock order: historyFeeds.mu, then the hub's lock (RoomCounts).
type historyFeeds struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	rooms   map[string]bool // rooms with a running feed
	stopped bool
}

func newHistoryFeeds(s *Server) *historyFeeds {
	ctx, cancel := context.WithCancel(context.Background())
	return &historyFeeds{s: s, ctx: ctx, cancel: cancel, rooms: map[string]bool{}}
}

// ensure starts room's feed unless it runs (or the app stopped). sent is
// what the joining stream was just sent (nil: nothing): a new feed starts
// from it, so its first tick does not send every chart again.
func (f *historyFeeds) ensure(room string, spec view.HistorySpec, tzo int, sent *ui.HistoryView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped || f.rooms[room] {
		return
	}
	store, err := f.s.historyStore()
	if err != nil {
		f.s.log.Error("history feed not started", "room", room, "err", err)
		return
	}
	f.rooms[room] = true
	f.wg.Add(1)
	var feed view.HistoryFeed
	if sent != nil {
		if _, _, err := feed.Next(f.ctx, *sent); err != nil {
			f.s.log.Warn("history feed", "room", room, "err", err)
		}
	}
	go f.run(room, spec, tzo, store, &feed)
}

// keep reports whether room still has streams, and forgets its feed when
// it has none: a stream joining later starts a new one (it joins before
// it calls ensure, and both take mu).
func (f *historyFeeds) keep(room string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.s.deps.Hub.RoomCounts()[room] > 0 {
		return true
	}
	delete(f.rooms, room)
	return false
}

func (f *historyFeeds) run(room string, spec view.HistorySpec, tzo int, store view.HistoryStore, feed *view.HistoryFeed) {
	defer f.wg.Done()
	log := f.s.log.With("room", room)
	t := time.NewTicker(historyTick)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		}
		if !f.keep(room) {
			return
		}
		v, err := view.HistoryPage(store, spec, f.s.now(), tzo)
		if err != nil {
			log.Warn("history feed", "err", err)
			continue
		}
		evs, n, err := feed.Next(f.ctx, v)
		if err != nil {
			log.Warn("history feed", "err", err)
			continue
		}
		if len(evs) > 0 {
			log.Debug("history feed sent", "bytes", n)
			f.s.deps.Hub.BroadcastToRoom(room, evs...)
		}
	}
}

// stop ends every feed and waits for them; no feed starts afterwards.
func (f *historyFeeds) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}
