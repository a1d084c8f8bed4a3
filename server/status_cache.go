package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// statusFresh is how long a validated page is served without looking at
// the live state again: under a flood of requests the key is computed at
// most once a second, and a reader sees a change at most this late.
// Streams always validate (a stream that connects must not start from a
// state older than the broadcasts it will miss).
const statusFresh = time.Second

// statusCache holds the status page and its feed rendered, with the key
// (view.StatusKey) they were built for. A request computes the key from
// memory (configuration, check states, open incidents, the minute) and
// renders only when it changed: one render per change, however many
// readers. mu is held while rendering, so a burst after a change renders
// once and the others wait for its bytes.
type statusCache struct {
	s *Server

	mu      sync.Mutex
	key     uint64
	checked time.Time // when key was last compared with the live state
	page    *statusRendered
}

// statusRendered is one build of the page: never changed once made.
type statusRendered struct {
	html, gz     []byte
	etag, gzETag string
	feed         []byte
	feedETag     string
	state        []hub.Event // the live part, for streams that connect
}

func newStatusCache(s *Server) *statusCache { return &statusCache{s: s} }

// get returns the page for the live state now; validate false lets a
// page checked within statusFresh be served as it is.
func (sc *statusCache) get(validate bool) (*statusRendered, error) {
	now := sc.s.now()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if p := sc.page; p != nil && !validate {
		if age := now.Sub(sc.checked); age >= 0 && age < statusFresh {
			return p, nil
		}
	}
	cfg := sc.s.deps.Latest.Config()
	if cfg == nil {
		cfg = config.Default()
	}
	statuses := sc.s.deps.Checks.Statuses()
	open := sc.s.deps.Incidents.Open()
	key := view.StatusKey(cfg, statuses, open, now)
	sc.checked = now
	if sc.page != nil && key == sc.key {
		return sc.page, nil
	}
	p, err := sc.render(view.StatusInputs{Config: cfg, Checks: statuses, Uptime: sc.s.deps.Store,
		Incidents: sc.s.deps.Incidents, Now: now})
	if err != nil {
		return nil, err
	}
	sc.page, sc.key = p, key
	return p, nil
}

// render builds and renders the page, its feed and its live part. A part
// that could not be read is logged and left empty: the page still serves.
func (sc *statusCache) render(in view.StatusInputs) (*statusRendered, error) {
	v, err := view.StatusPage(in)
	if err != nil {
		sc.s.log.Warn("status page: part of it not read", "err", err)
	}
	ctx := context.Background()
	var b bytes.Buffer
	if err := ui.StatusPage(sc.s.deps.Assets, v).Render(ctx, &b); err != nil {
		return nil, fmt.Errorf("status page: render: %w", err)
	}
	feed, err := view.StatusFeed(v, in.Config.Alerts.ExternalURL, sc.s.deps.Latest.StartedAt())
	if err != nil {
		return nil, err
	}
	state, err := view.StatusState(ctx, v)
	if err != nil {
		return nil, err
	}
	html := b.Bytes()
	p := &statusRendered{html: html, gz: fasthttp.AppendGzipBytesLevel(nil, html, fasthttp.CompressBestCompression),
		etag: contentETag("sp", html), feed: feed, feedETag: contentETag("sf", feed), state: state}
	p.gzETag = p.etag[:len(p.etag)-1] + `-gz"`
	return p, nil
}

// contentETag is a strong entity tag of body's bytes: unchanged bytes keep
// their tag across builds, so readers get 304s until something shows.
func contentETag(prefix string, body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + prefix + hex.EncodeToString(sum[:12]) + `"`
}
