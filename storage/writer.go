package storage

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// Limits on names used as bbolt keys (bbolt allows 32 KiB; dashd names are
// short, so anything long is a bug upstream).
const (
	maxNameLen = 1024
	maxTextLen = 64 << 10
)

type reqKind uint8

const (
	reqSample reqKind = iota + 1
	reqResult
	reqEvent
	reqNotification
	reqMarkRead
	reqChat
	reqFlush
)

// request is one queued write. reply is nil for the asynchronous writes.
type request struct {
	kind    reqKind
	sample  model.Sample
	result  model.Result
	event   model.Event
	notif   model.Notification
	chat    model.ChatMessage
	session string
	upTo    uint64
	reply   chan reply

	id uint64 // set by apply for the record it stored
}

type reply struct {
	id  uint64
	err error
}

// WriteSample queues one tick of samples. It never blocks: when the queue is
// full the sample is dropped and ErrQueueFull returned (a gap in a chart is
// better than a stalled collector). The points are copied. Points whose value
// is NaN or infinite, or that are not newer than the series' previous point,
// are skipped when the sample is applied.
func (db *DB) WriteSample(s model.Sample) error {
	if s.Time.IsZero() {
		return fmt.Errorf("storage: write sample: %w: zero time", ErrInvalid)
	}
	for _, p := range s.Points {
		if p.Series == "" || len(p.Series) > maxNameLen {
			return fmt.Errorf("storage: write sample: %w: series name %q (length %d)", ErrInvalid, trunc(p.Series), len(p.Series))
		}
	}
	s.Points = append([]model.Point(nil), s.Points...)
	return db.enqueue(request{kind: reqSample, sample: s}, 0)
}

// WriteResult queues a check result. It blocks at most
// Options.EnqueueTimeout on a full queue, then drops the result with
// ErrQueueFull. Values is copied.
func (db *DB) WriteResult(r model.Result) error {
	if err := validResult(r); err != nil {
		return err
	}
	if r.Values != nil {
		v := make(map[string]float64, len(r.Values))
		for k, x := range r.Values {
			v[k] = x
		}
		r.Values = v
	}
	return db.enqueue(request{kind: reqResult, result: r}, db.opts.EnqueueTimeout)
}

// AppendEvent queues an event without waiting for its ID; it blocks like
// WriteResult. A zero Time means now. Use AddEvent when the ID is needed.
func (db *DB) AppendEvent(e model.Event) error {
	e, err := db.prepEvent(e)
	if err != nil {
		return err
	}
	return db.enqueue(request{kind: reqEvent, event: e}, db.opts.EnqueueTimeout)
}

// AddEvent stores an event and returns it with its ID once it is committed
// (together with whatever else was queued). A zero Time means now.
func (db *DB) AddEvent(ctx context.Context, e model.Event) (model.Event, error) {
	e, err := db.prepEvent(e)
	if err != nil {
		return e, err
	}
	id, err := db.sync(ctx, request{kind: reqEvent, event: e})
	e.ID = id
	return e, err
}

// AddNotification stores a notification and returns it with its ID once
// committed. A zero Time means now.
func (db *DB) AddNotification(ctx context.Context, n model.Notification) (model.Notification, error) {
	if n.Title == "" || len(n.Title)+len(n.Body) > maxTextLen || len(n.Check) > maxNameLen {
		return n, fmt.Errorf("storage: add notification: %w: empty title or too long", ErrInvalid)
	}
	if n.Time.IsZero() {
		n.Time = db.now()
	}
	id, err := db.sync(ctx, request{kind: reqNotification, notif: n})
	n.ID = id
	return n, err
}

// MarkNotificationsRead marks every notification with an ID up to upToID as
// read for session (0 means every notification stored so far). Read marks
// only move forward.
func (db *DB) MarkNotificationsRead(ctx context.Context, session string, upToID uint64) error {
	if session == "" || len(session) > maxNameLen {
		return fmt.Errorf("storage: mark read: %w: session %q", ErrInvalid, trunc(session))
	}
	_, err := db.sync(ctx, request{kind: reqMarkRead, session: session, upTo: upToID})
	return err
}

// AddChat stores a chat message and returns it with its ID (unique across
// rooms) once committed. A zero Time means now.
func (db *DB) AddChat(ctx context.Context, m model.ChatMessage) (model.ChatMessage, error) {
	if m.Room == "" || len(m.Room) > maxNameLen || len(m.Author) > maxNameLen || len(m.Text) > maxTextLen {
		return m, fmt.Errorf("storage: add chat: %w: empty room or field too long", ErrInvalid)
	}
	if m.Time.IsZero() {
		m.Time = db.now()
	}
	id, err := db.sync(ctx, request{kind: reqChat, chat: m})
	m.ID = id
	return m, err
}

// Flush waits until everything queued before it is committed.
func (db *DB) Flush(ctx context.Context) error {
	_, err := db.sync(ctx, request{kind: reqFlush})
	return err
}

func validResult(r model.Result) error {
	if r.Check == "" || len(r.Check) > maxNameLen {
		return fmt.Errorf("storage: write result: %w: check name %q", ErrInvalid, trunc(r.Check))
	}
	if r.Time.IsZero() {
		return fmt.Errorf("storage: write result %q: %w: zero time", r.Check, ErrInvalid)
	}
	if len(r.Reason) > maxTextLen || len(r.Values) > 256 {
		return fmt.Errorf("storage: write result %q: %w: reason or values too large", r.Check, ErrInvalid)
	}
	return nil
}

func (db *DB) prepEvent(e model.Event) (model.Event, error) {
	if e.Kind == "" || len(e.Check) > maxNameLen || len(e.Reason) > maxTextLen {
		return e, fmt.Errorf("storage: add event: %w: empty kind or field too long", ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	return e, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// enqueue sends r, waiting at most wait on a full queue (0: not at all).
func (db *DB) enqueue(r request, wait time.Duration) error {
	db.enqMu.RLock()
	defer db.enqMu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	select {
	case db.reqs <- r:
		return nil
	default:
	}
	if wait <= 0 {
		return ErrQueueFull
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case db.reqs <- r:
		return nil
	case <-t.C:
		return ErrQueueFull
	}
}

// sync queues r and waits until it is committed. If ctx ends first the
// record may still be committed later; only the answer is lost.
func (db *DB) sync(ctx context.Context, r request) (uint64, error) {
	r.reply = make(chan reply, 1)
	if err := func() error {
		db.enqMu.RLock()
		defer db.enqMu.RUnlock()
		if db.closed {
			return ErrClosed
		}
		select {
		case db.reqs <- r:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}(); err != nil {
		return 0, err
	}
	select {
	case rep := <-r.reply:
		return rep.id, rep.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// alwaysReady is a closed channel: a select case on it fires at once.
var alwaysReady = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Run is the single writer. It drains the queue and commits one transaction
// per tick: a sample (or a synchronous request) commits at once together with
// everything queued before it; lone results and events wait at most
// Options.FlushInterval. It also runs the retention pass, at once and then
// every Options.RetentionInterval, in bounded transactions interleaved with
// ingest. Run returns nil when ctx is done or Close is called, after
// committing what was queued; records queued later are committed by Close.
func (db *DB) Run(ctx context.Context) error {
	db.runMu.Lock()
	if db.stopping {
		db.runMu.Unlock()
		return ErrClosed
	}
	if db.running {
		db.runMu.Unlock()
		return ErrRunning
	}
	db.running = true
	db.runDone = make(chan struct{})
	done := db.runDone
	db.runMu.Unlock()
	defer func() {
		db.runMu.Lock()
		db.running = false
		db.runMu.Unlock()
		close(done)
	}()

	retTick := time.NewTicker(db.opts.RetentionInterval)
	defer retTick.Stop()
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	flushArmed := false
	retActive := true
	var pending []request
	for {
		var retC <-chan struct{}
		if retActive {
			retC = alwaysReady
		}
		select {
		case <-ctx.Done():
			_ = db.commit(db.drain(pending)) // failures are logged and answered
			return nil
		case <-db.quit:
			_ = db.commit(db.drain(pending)) // failures are logged and answered
			return nil
		case r := <-db.reqs:
			pending = append(pending, r)
			if r.kind == reqSample || r.reply != nil {
				_ = db.commit(db.drain(pending))
				pending = pending[:0]
				if flushArmed {
					flush.Stop()
					flushArmed = false
				}
			} else if !flushArmed {
				flush.Reset(db.opts.FlushInterval)
				flushArmed = true
			}
		case <-flush.C:
			flushArmed = false
			_ = db.commit(db.drain(pending))
			pending = pending[:0]
		case <-retTick.C:
			retActive = true
		case <-retC:
			more, err := db.retentionStep(retentionBudget)
			if err != nil {
				db.log.Error("storage: retention", "err", err)
			}
			retActive = more && err == nil
		}
	}
}

// drain appends everything queued right now to batch.
func (db *DB) drain(batch []request) []request {
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
}

// commit applies batch in one transaction and answers the synchronous
// requests. On failure the writer reloads its state from the file so memory
// never runs ahead of disk.
func (db *DB) commit(batch []request) error {
	if len(batch) == 0 {
		return nil
	}
	err := db.update(func(tx *bolt.Tx) error { return db.w.apply(tx, batch) })
	if err != nil {
		db.log.Error("storage: commit failed; records dropped", "records", len(batch), "err", err)
		if lerr := db.view(db.w.load); lerr != nil {
			db.log.Error("storage: reload series heads", "err", lerr)
		}
	}
	for i := range batch {
		if batch[i].reply != nil {
			batch[i].reply <- reply{id: batch[i].id, err: err}
		}
		batch[i] = request{} // drop references; the slice is reused
	}
	return err
}

// writer holds the in-memory state of the single writer: one entry per
// known series. It is loaded from the heads bucket at Open.
type writer struct {
	db         *DB
	series     map[string]*seriesState
	dirty      []*seriesState
	lastMinute int64 // minute of the newest applied sample (sweep trigger)
	dropped    uint64
}

type seriesState struct {
	name  string
	id    uint32
	head  head
	raw   []byte // value of the open raw chunk; valid when rawOK
	rawOK bool
	dirty bool
}

func newWriter(db *DB) *writer {
	return &writer{db: db, series: map[string]*seriesState{}, lastMinute: noTime}
}

// load (re)reads every series and its head.
func (w *writer) load(tx *bolt.Tx) error {
	w.series = map[string]*seriesState{}
	w.dirty = w.dirty[:0]
	heads := tx.Bucket(bHeads)
	return tx.Bucket(bSeries).ForEach(func(k, v []byte) error {
		if len(v) != 4 {
			return fmt.Errorf("%w: series %q: id is %d bytes", ErrCorrupt, k, len(v))
		}
		st := &seriesState{name: string(k), id: beUint32(v), head: head{lastT: noTime}}
		if hv := heads.Get(v); hv != nil {
			h, err := decodeHead(hv)
			if err != nil {
				return fmt.Errorf("%w: head of series %q: %v", ErrCorrupt, k, err)
			}
			st.head = h
			if h.minute.count > 0 && h.minute.start > w.lastMinute {
				w.lastMinute = h.minute.start
			}
		}
		w.series[st.name] = st
		return nil
	})
}

// apply writes one batch inside tx.
func (w *writer) apply(tx *bolt.Tx, batch []request) error {
	w.dirty = w.dirty[:0]
	for i := range batch {
		r := &batch[i]
		var err error
		switch r.kind {
		case reqSample:
			err = w.applySample(tx, r.sample)
		case reqResult:
			err = w.applyResult(tx, r.result)
		case reqEvent:
			r.id, err = putSeq(tx.Bucket(bEvents), encodeEvent(r.event))
		case reqNotification:
			r.id, err = putSeq(tx.Bucket(bNotifications), encodeNotification(r.notif))
		case reqMarkRead:
			err = w.applyMarkRead(tx, r.session, r.upTo)
		case reqChat:
			r.id, err = w.applyChat(tx, r.chat)
		}
		if err != nil {
			return err
		}
	}
	heads := tx.Bucket(bHeads)
	for _, st := range w.dirty {
		st.dirty = false
		if err := heads.Put(u32Key(st.id), encodeHead(st.head)); err != nil {
			return err
		}
	}
	return nil
}

// putSeq stores v under the bucket's next sequence number.
func putSeq(b *bolt.Bucket, v []byte) (uint64, error) {
	b.FillPercent = 1 // keys only ever grow: pack pages full
	id, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return id, b.Put(u64Key(id), v)
}

func (w *writer) applyChat(tx *bolt.Tx, m model.ChatMessage) (uint64, error) {
	chat := tx.Bucket(bChat)
	id, err := chat.NextSequence()
	if err != nil {
		return 0, err
	}
	room, err := chat.CreateBucketIfNotExists([]byte(m.Room))
	if err != nil {
		return 0, err
	}
	room.FillPercent = 1
	return id, room.Put(u64Key(id), encodeChat(m))
}

func (w *writer) applyMarkRead(tx *bolt.Tx, session string, upTo uint64) error {
	if upTo == 0 {
		upTo = tx.Bucket(bNotifications).Sequence()
	}
	reads := tx.Bucket(bReads)
	if v := reads.Get([]byte(session)); len(v) == 16 && beUint64(v) > upTo {
		upTo = beUint64(v)
	}
	v := make([]byte, 16)
	putBEUint64(v, upTo)
	putBEUint64(v[8:], uint64(w.db.now().UnixNano()))
	return reads.Put([]byte(session), v)
}

// seriesFor returns the state of a series, registering it on first sight.
func (w *writer) seriesFor(tx *bolt.Tx, name string) (*seriesState, error) {
	if st := w.series[name]; st != nil {
		return st, nil
	}
	reg := tx.Bucket(bSeries)
	seq, err := reg.NextSequence()
	if err != nil {
		return nil, err
	}
	if seq > math.MaxUint32 {
		return nil, fmt.Errorf("storage: series ids exhausted")
	}
	st := &seriesState{name: name, id: uint32(seq), head: head{lastT: noTime}}
	if err := reg.Put([]byte(name), u32Key(st.id)); err != nil {
		return nil, err
	}
	w.series[name] = st
	return st, nil
}

func (w *writer) markDirty(st *seriesState) {
	if !st.dirty {
		st.dirty = true
		w.dirty = append(w.dirty, st)
	}
}

// applySample appends the points of one tick to the raw tier and the open
// aggregates, closing minutes and hours that ended.
func (w *writer) applySample(tx *bolt.Tx, s model.Sample) error {
	t := s.Time.UnixMilli()
	raw := tx.Bucket(bRaw)
	raw.FillPercent = 1
	for _, p := range s.Points {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			w.dropped++
			continue
		}
		st, err := w.seriesFor(tx, p.Series)
		if err != nil {
			return err
		}
		if st.head.lastT != noTime && t <= st.head.lastT {
			w.dropped++ // out of order: the clock stepped back or a duplicate tick
			continue
		}
		if err := w.closeRollups(tx, st, t); err != nil {
			return err
		}
		st.head.minute.add(floorTo(t, minuteMs), p.Value)
		st.head.hour.add(floorTo(t, hourMs), p.Value)
		if err := w.appendRaw(raw, st, t, p.Value); err != nil {
			return err
		}
		st.head.lastT, st.head.lastV = t, p.Value
		w.markDirty(st)
	}
	// Series that did not report in this tick still get their minute and
	// hour closed once time moves past them.
	if m := floorTo(t, minuteMs); m > w.lastMinute {
		w.lastMinute = m
		for _, st := range w.series {
			if err := w.closeRollups(tx, st, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeRollups writes the open minute / hour of st if t lies past it.
func (w *writer) closeRollups(tx *bolt.Tx, st *seriesState, t int64) error {
	if a := st.head.minute; a.count > 0 && a.start != floorTo(t, minuteMs) && t > a.start {
		if err := upsertRollup(w.db, tx.Bucket(bMinute), tierMinute, st.id, a.rollup()); err != nil {
			return err
		}
		st.head.minute = agg{}
		w.markDirty(st)
	}
	if a := st.head.hour; a.count > 0 && a.start != floorTo(t, hourMs) && t > a.start {
		if err := upsertRollup(w.db, tx.Bucket(bHour), tierHour, st.id, a.rollup()); err != nil {
			return err
		}
		st.head.hour = agg{}
		w.markDirty(st)
	}
	return nil
}

// appendRaw appends one point to the open raw chunk of st.
func (w *writer) appendRaw(raw *bolt.Bucket, st *seriesState, t int64, v float64) error {
	win := floorTo(t, rawChunkMs)
	key := chunkKey(win, st.id)
	enc := rawEnc{prevT: win}
	fresh := true
	if st.head.lastT != noTime && floorTo(st.head.lastT, rawChunkMs) == win {
		if !st.rawOK {
			st.raw = append([]byte(nil), raw.Get(key)...)
			st.rawOK = true
		}
		if len(st.raw) > 0 {
			enc = rawEnc{prevT: st.head.lastT, prevDelta: st.head.prevDelta, prevBits: math.Float32bits(float32(st.head.lastV))}
			fresh = false
		}
	}
	if fresh {
		// A new slice, never a reuse: bbolt keeps the previous chunk's value
		// slice until the transaction ends.
		st.raw = make([]byte, 0, 512)
		st.rawOK = true
	}
	st.raw = appendRawPoint(st.raw, &enc, t, float32(v))
	st.head.prevDelta = enc.prevDelta
	return raw.Put(key, st.raw)
}

// tierSpec describes a rollup tier: the width of one slot and of one chunk.
type tierSpec struct {
	slotMs, chunkMs int64
}

var (
	tierMinute = tierSpec{slotMs: minuteMs, chunkMs: hourMs}
	tierHour   = tierSpec{slotMs: hourMs, chunkMs: dayMs}
)

// upsertRollup inserts (or replaces) r in its chunk.
func upsertRollup(db *DB, b *bolt.Bucket, tier tierSpec, id uint32, r rollup) error {
	b.FillPercent = 1
	cs := floorTo(r.start, tier.chunkMs)
	key := chunkKey(cs, id)
	rs, err := decodeRollups(tier.slotMs, cs, b.Get(key))
	if err != nil {
		// Losing one chunk beats failing every future transaction.
		db.log.Error("storage: corrupt rollup chunk replaced", "series_id", id, "chunk", msTime(cs), "err", err)
		rs = nil
	}
	i := len(rs)
	for i > 0 && rs[i-1].start >= r.start {
		i--
	}
	if i < len(rs) && rs[i].start == r.start {
		rs[i] = r
	} else {
		rs = append(rs, rollup{})
		copy(rs[i+1:], rs[i:])
		rs[i] = r
	}
	return b.Put(key, encodeRollups(tier.slotMs, cs, rs))
}

// applyResult inserts r into its chunk and counts it in the uptime buckets.
func (w *writer) applyResult(tx *bolt.Tx, r model.Result) error {
	rb, err := tx.Bucket(bResults).CreateBucketIfNotExists([]byte(r.Check))
	if err != nil {
		return err
	}
	rb.FillPercent = 1
	t := r.Time.UnixMilli()
	cs := floorTo(t, resultsChunkMs)
	key := timeKey(cs)
	rs, err := decodeResults(cs, rb.Get(key), r.Check)
	if err != nil {
		w.db.log.Error("storage: corrupt result chunk replaced", "check", r.Check, "chunk", msTime(cs), "err", err)
		rs = nil
	}
	// Keep time order; results with equal times are all kept.
	i := len(rs)
	for i > 0 && rs[i-1].Time.UnixMilli() > t {
		i--
	}
	rs = append(rs, model.Result{})
	copy(rs[i+1:], rs[i:])
	rs[i] = r
	if err := rb.Put(key, encodeResults(cs, rs)); err != nil {
		return err
	}

	ub, err := tx.Bucket(bUptime).CreateBucketIfNotExists([]byte(r.Check))
	if err != nil {
		return err
	}
	for _, x := range []struct {
		name []byte
		step int64
	}{{bUptimeHourly, hourMs}, {bUptimeDaily, dayMs}} {
		b, err := ub.CreateBucketIfNotExists(x.name)
		if err != nil {
			return err
		}
		b.FillPercent = 1
		k := timeKey(floorTo(t, x.step))
		c := decodeCounts(b.Get(k))
		c.add(r.State)
		if err := b.Put(k, c.encode()); err != nil {
			return err
		}
	}
	return nil
}
