package storage

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dashd/dashd/internal/grid"
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
	reqAlert         // an alert change, with or without its event (holdable)
	reqMarkOutbox    // one delivery attempt's outcome
	reqSilence       // a new silence
	reqExpireSilence // a silence ended by hand
	reqSessionPut    // a session stored (sessions.go)
	reqSessionUpdate // last-seen times or roles of sessions
	reqSessionDelete // sessions deleted
	reqIncident      // an incident created or changed, or entries added (incidents.go)
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

	// alert carries what the alerting kinds need (nil for the others, so
	// the requests of a plain tick stay small); sess and incident the same
	// for sessions and incidents.
	alert    *alertReq
	sess     *sessionReq
	incident *incidentReq

	id uint64 // set by apply for the record it stored
	// refused is set by apply when it turned the request down without
	// failing the transaction (an unknown silence): the other records of
	// the batch are stored, the writer gets this error.
	refused error
}

type reply struct {
	id    uint64
	err   error
	items []model.OutboxItem // reqAlert: the stored items, with their IDs
}

// answer is the reply to a request whose transaction committed.
func (r *request) answer() reply {
	rep := reply{id: r.id, err: r.refused}
	if r.kind == reqAlert {
		rep.items = slices.Clone(r.alert.change.Outbox)
	}
	return rep
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
// (together with whatever else was queued). A zero Time means now. If the
// commit fails the event is usually held and stored by the first commit
// that succeeds: the answer is then the event with ID 0 and an error
// wrapping ErrHeld, and it must not be added again (see the package doc,
// # Write failures). It is AddEventWith without an alert change.
func (db *DB) AddEvent(ctx context.Context, e model.Event) (model.Event, error) {
	e, _, err := db.AddEventWith(ctx, e, model.AlertChange{})
	return e, err
}

// AddNotification stores a notification and returns it with its ID once
// committed. A zero Time means now. On a failed commit it answers like
// AddEvent (ErrHeld, ID 0).
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
// rooms) once committed. A zero Time means now. Storing it may delete the
// oldest messages of any room to keep chat within Options.ChatMaxBytes.
// On a failed commit the message is not stored and the error wraps
// ErrWriteFailed.
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

// Flush waits until everything queued before it went through a commit. Its
// error is that of its own commit (ErrWriteFailed while the disk refuses
// writes); records dropped earlier are counted in WriteHealth, not here.
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
	if e.Kind == "" || len(e.Check) > maxNameLen || len(e.Reason) > maxTextLen || len(e.User) > maxNameLen || len(e.Address) > maxNameLen {
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
func (db *DB) enqueue(r request, wait time.Duration) (err error) {
	req := &r
	if r.kind == reqResult {
		db.waitingResults.Add(1)
		defer func() {
			if err != nil {
				db.waitingResults.Add(-1)
			}
		}()
	}
	db.enqMu.RLock()
	defer db.enqMu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	select {
	case db.reqs <- req:
		return nil
	default:
	}
	if wait <= 0 {
		db.health.dropped(r.kind)
		return ErrQueueFull
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case db.reqs <- req:
		return nil
	case <-t.C:
		db.health.dropped(r.kind)
		return ErrQueueFull
	}
}

// sync queues r and waits until it is committed. If ctx ends first the
// record may still be committed later; only the answer is lost.
func (db *DB) sync(ctx context.Context, r request) (uint64, error) {
	rep := db.send(ctx, r)
	return rep.id, rep.err
}

// send is sync returning the whole reply (the error in it).
func (db *DB) send(ctx context.Context, r request) reply {
	r.reply = make(chan reply, 1)
	if err := func() error {
		db.enqMu.RLock()
		defer db.enqMu.RUnlock()
		if db.closed {
			return ErrClosed
		}
		select {
		case db.reqs <- &r:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}(); err != nil {
		return reply{err: err}
	}
	select {
	case rep := <-r.reply:
		return rep
	case <-ctx.Done():
		return reply{err: ctx.Err()}
	}
}

// alwaysReady is a closed channel: a select case on it fires at once.
var alwaysReady = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Run is the single writer. It drains the queue and commits one transaction
// per tick: a sample (or a synchronous request) commits at once together with
// everything queued before it; lone results and events wait at most
// Options.FlushInterval, and records held after a failed commit wait that
// long before they are retried on their own. With Options.CommitInterval,
// samples, results and events without a waiter all wait for the next
// multiple of it on the wall clock instead (a synchronous request, a read
// of results, or the stop still commit them at once). It also runs the retention pass, at
// once and then every Options.RetentionInterval, in bounded transactions
// interleaved with ingest. Run returns nil when ctx is done or Close is
// called, after committing what was queued; records queued later are
// committed by Close.
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
	var pending []*request
	for {
		if len(db.held.reqs) > 0 && !flushArmed {
			// Held records are retried even when nothing else arrives.
			flush.Reset(db.opts.FlushInterval)
			flushArmed = true
		}
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
			if r.reply != nil || (r.kind == reqSample && db.opts.CommitInterval <= 0) {
				_ = db.commit(db.drain(pending))
				pending = pending[:0]
				if flushArmed {
					flush.Stop()
					flushArmed = false
				}
			} else if !flushArmed {
				flush.Reset(db.flushWait())
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

// catchUp commits the results that wait to be written (Options.
// CommitInterval) before they are read: a heartbeat strip or a check page
// read once and then kept up from the flow must not miss the results of
// the last seconds for good. It costs nothing when none waits, and at
// most the commit that was due anyway, brought forward. A failure only
// leaves the read as it would have been.
func (db *DB) catchUp() {
	if db.opts.CommitInterval <= 0 || db.waitingResults.Load() <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = db.Flush(ctx)
}

// flushWait is how long records without a waiter wait to be committed:
// FlushInterval, or with a CommitInterval until its next multiple on the
// wall clock, where the sampler's tick that queued them is (so the commit
// shares its wake-up).
func (db *DB) flushWait() time.Duration {
	if db.opts.CommitInterval <= 0 {
		return db.opts.FlushInterval
	}
	now := time.Now()
	return grid.Next(now, db.opts.CommitInterval).Sub(now)
}

// drain appends everything queued right now to batch.
func (db *DB) drain(batch []*request) []*request {
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
}

// writer holds the in-memory state of the single writer: one entry per
// known series, and what was applied since the last fold. It is loaded at
// Open from the heads bucket and the log (see load).
type writer struct {
	db     *DB
	series map[string]*seriesState
	byID   map[uint32]*seriesState

	// Since the last fold: the series whose head or raw chunk changed, raw
	// chunks a late point left behind in an older window, the results
	// logged, and the number of log records.
	unfolded []*seriesState
	pending  []pendingChunk
	results  []model.Result
	logged   int

	openWin    int64 // newest raw window of any record (fold trigger), noTime if none
	lastMinute int64 // minute of the newest applied sample (sweep trigger)
	replaying  bool  // load is replaying the log: memory only, nothing is written
	dropped    uint64
}

type seriesState struct {
	name  string
	id    uint32
	head  head
	raw   []byte // value of the raw chunk of head.lastT's window; valid when rawOK
	rawOK bool
	// rawDirty: raw holds points that are only in the log, not yet in the
	// raw bucket. unfolded: the series is in writer.unfolded.
	rawDirty bool
	unfolded bool
}

// pendingChunk is a raw chunk to Put at the next fold.
type pendingChunk struct {
	key, val []byte
}

func newWriter(db *DB) *writer {
	return &writer{db: db, series: map[string]*seriesState{}, byID: map[uint32]*seriesState{},
		openWin: noTime, lastMinute: noTime}
}

// load (re)reads every series and its head (the state as of the last fold),
// then replays the log in memory: afterwards the writer is exactly where it
// was after the last commit, whether the file was closed or the process
// killed.
func (w *writer) load(tx *bolt.Tx) error {
	*w = writer{db: w.db, series: map[string]*seriesState{}, byID: map[uint32]*seriesState{},
		openWin: noTime, lastMinute: noTime, dropped: w.dropped}
	heads := tx.Bucket(bHeads)
	err := tx.Bucket(bSeries).ForEach(func(k, v []byte) error {
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
			if h.lastT != noTime {
				w.openWin = max(w.openWin, floorTo(h.lastT, rawChunkMs))
			}
		}
		w.series[st.name] = st
		w.byID[st.id] = st
		return nil
	})
	if err != nil {
		return err
	}
	w.replaying = true
	defer func() { w.replaying = false }()
	lb := tx.Bucket(bLog)
	if lb == nil {
		return nil
	}
	c := lb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := w.replay(tx, v); err != nil {
			return fmt.Errorf("%w: log record %x: %v", ErrCorrupt, k, err)
		}
	}
	return nil
}

// replay applies one log record to memory, as applySample or logResult did
// when it was committed.
func (w *writer) replay(tx *bolt.Tx, v []byte) error {
	if len(v) < logHeader {
		return errBadRecord
	}
	t := getTime(v[1:])
	w.logged++
	w.noteTime(t)
	switch v[0] {
	case logSample:
		raw := tx.Bucket(bRaw)
		var err error
		derr := decodeLogSample(v, func(id uint32, x float64) bool {
			st := w.byID[id]
			if st == nil || (st.head.lastT != noTime && t <= st.head.lastT) {
				return true // forgotten meanwhile, or already in the head
			}
			err = w.addPoint(tx, raw, st, t, x)
			return err == nil
		})
		if derr != nil {
			return derr
		}
		if err != nil {
			return err
		}
		return w.sweep(tx, t)
	case logResult:
		r, err := decodeLogResult(v)
		if err != nil {
			return err
		}
		w.results = append(w.results, r)
		return nil
	}
	return errBadRecord
}

// apply writes one batch inside tx.
func (w *writer) apply(tx *bolt.Tx, batch []*request) error {
	for _, r := range batch {
		var err error
		r.refused = nil
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
		case reqAlert:
			r.id, err = w.applyAlertChange(tx, r)
		case reqMarkOutbox:
			err = w.applyMarkOutbox(tx, r.alert.mark)
		case reqSilence:
			r.id, err = putSeq(tx.Bucket(bSilences), encodeSilence(r.alert.silence))
		case reqExpireSilence:
			r.refused, err = w.applyExpireSilence(tx, r.alert.silence.ID, r.alert.silence.Expired)
		case reqSessionPut, reqSessionUpdate, reqSessionDelete:
			r.id, err = applySession(tx, r.kind, r.sess)
		case reqIncident:
			r.id, r.refused, err = applyIncident(tx, r.incident)
		}
		if err != nil {
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
	w.byID[st.id] = st
	return st, nil
}

// markUnfolded notes that the head of st must be written at the next fold.
func (w *writer) markUnfolded(st *seriesState) {
	if !st.unfolded {
		st.unfolded = true
		w.unfolded = append(w.unfolded, st)
	}
}

// noteTime moves the open raw window forward and reports whether the record
// at t must be preceded by a fold: it opens a new window, or the log is
// full. Replay only tracks the window: the file already holds every fold.
func (w *writer) noteTime(t int64) (fold bool) {
	win := floorTo(t, rawChunkMs)
	fold = (w.openWin != noTime && win > w.openWin) || w.logged >= maxLogRecords
	w.openWin = max(w.openWin, win)
	return fold && !w.replaying
}

// appendLog stores rec as the next log record.
func (w *writer) appendLog(tx *bolt.Tx, rec []byte) error {
	b := tx.Bucket(bLog)
	b.FillPercent = 1 // appends only
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	w.logged++
	return b.Put(u64Key(seq), rec)
}

// fold moves everything logged since the last fold into the series and
// result buckets: the raw chunk of every series that got points, the heads
// of every series that changed, the logged results into their chunks and
// uptime counters; then it empties the log. It runs inside the transaction
// of the record that triggered it, so the file is never without either the
// log records or what they were folded into.
func (w *writer) fold(tx *bolt.Tx) error {
	raw, heads := tx.Bucket(bRaw), tx.Bucket(bHeads)
	raw.FillPercent = 1
	for _, c := range w.pending {
		if err := raw.Put(c.key, c.val); err != nil {
			return err
		}
	}
	for _, st := range w.unfolded {
		if st.rawDirty {
			// bbolt keeps st.raw until the transaction ends; later appends
			// only write past its length, and a new window gets a new slice.
			if err := raw.Put(chunkKey(floorTo(st.head.lastT, rawChunkMs), st.id), st.raw); err != nil {
				return err
			}
		}
		if err := heads.Put(u32Key(st.id), encodeHead(st.head)); err != nil {
			return err
		}
	}
	if err := w.foldResults(tx, w.results); err != nil {
		return err
	}
	if w.logged > 0 {
		// Dropping the bucket frees its pages in one go (no per-key
		// rebalancing); the sequence restarts, which is fine for an empty log.
		if err := tx.DeleteBucket(bLog); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bLog); err != nil {
			return err
		}
	}
	for _, st := range w.unfolded {
		st.unfolded, st.rawDirty = false, false
	}
	w.unfolded, w.pending, w.results, w.logged = w.unfolded[:0], nil, nil, 0
	return nil
}

// applySample appends the points of one tick to the open raw chunks and
// aggregates in memory, closing minutes and hours that ended, and logs the
// points. The chunks and heads reach their buckets at the next fold.
func (w *writer) applySample(tx *bolt.Tx, s model.Sample) error {
	t := s.Time.UnixMilli()
	if w.noteTime(t) {
		if err := w.fold(tx); err != nil {
			return err
		}
	}
	raw := tx.Bucket(bRaw)
	rec := newLogRecord(logSample, t, logHeader+len(s.Points)*6)
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
		if err := w.addPoint(tx, raw, st, t, p.Value); err != nil {
			return err
		}
		rec = appendLogPoint(rec, st.id, p.Value)
	}
	if err := w.sweep(tx, t); err != nil {
		return err
	}
	return w.appendLog(tx, rec)
}

// addPoint applies one accepted point of series st at t.
func (w *writer) addPoint(tx *bolt.Tx, raw *bolt.Bucket, st *seriesState, t int64, v float64) error {
	if err := w.closeRollups(tx, st, t); err != nil {
		return err
	}
	st.head.minute.add(floorTo(t, minuteMs), v)
	st.head.hour.add(floorTo(t, hourMs), v)
	w.appendRaw(raw, st, t, v)
	st.head.lastT, st.head.lastV = t, v
	w.markUnfolded(st)
	return nil
}

// sweep closes the minute and hour of series that did not report in this
// tick once time moves past them.
func (w *writer) sweep(tx *bolt.Tx, t int64) error {
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

// closeRollups writes the open minute / hour of st if t lies past it. During
// replay the rollup is already in the file (written in the transaction of
// the record being replayed), so only memory changes.
func (w *writer) closeRollups(tx *bolt.Tx, st *seriesState, t int64) error {
	if a := st.head.minute; a.count > 0 && a.start != floorTo(t, minuteMs) && t > a.start {
		if !w.replaying {
			if err := upsertRollup(w.db, tx.Bucket(bMinute), tierMinute, st.id, a.rollup()); err != nil {
				return err
			}
		}
		st.head.minute = agg{}
		w.markUnfolded(st)
	}
	if a := st.head.hour; a.count > 0 && a.start != floorTo(t, hourMs) && t > a.start {
		if !w.replaying {
			if err := upsertRollup(w.db, tx.Bucket(bHour), tierHour, st.id, a.rollup()); err != nil {
				return err
			}
		}
		st.head.hour = agg{}
		w.markUnfolded(st)
	}
	return nil
}

// appendRaw appends one point to the raw chunk of st in memory.
func (w *writer) appendRaw(raw *bolt.Bucket, st *seriesState, t int64, v float64) {
	win := floorTo(t, rawChunkMs)
	enc := rawEnc{prevT: win}
	fresh := true
	if st.head.lastT != noTime {
		if cur := floorTo(st.head.lastT, rawChunkMs); cur == win {
			if !st.rawOK {
				// The chunk as of the last fold (or as a v1 file left it).
				st.raw = append([]byte(nil), raw.Get(chunkKey(win, st.id))...)
				st.rawOK = true
			}
			if len(st.raw) > 0 {
				enc = rawEnc{prevT: st.head.lastT, prevDelta: st.head.prevDelta, prevBits: math.Float32bits(float32(st.head.lastV))}
				fresh = false
			}
		} else if st.rawDirty {
			// Only late points land here: the chunk of an already folded
			// window got points after its fold. Keep it for the next fold.
			w.pending = append(w.pending, pendingChunk{key: chunkKey(cur, st.id), val: st.raw})
		}
	}
	if fresh {
		// A new slice, never a reuse: bbolt or w.pending may still hold the
		// previous chunk's slice.
		st.raw = make([]byte, 0, 512)
		st.rawOK = true
	}
	st.raw = appendRawPoint(st.raw, &enc, t, float32(v))
	st.head.prevDelta = enc.prevDelta
	st.rawDirty = true
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

// applyResult logs r; it reaches its chunk and the uptime counters at the
// next fold.
func (w *writer) applyResult(tx *bolt.Tx, r model.Result) error {
	if w.noteTime(r.Time.UnixMilli()) {
		if err := w.fold(tx); err != nil {
			return err
		}
	}
	if err := w.appendLog(tx, encodeLogResult(r)); err != nil {
		return err
	}
	w.results = append(w.results, r)
	return nil
}

// foldResults inserts rs (in the order they were applied) into their
// chunks and counts them in the uptime buckets, reading and writing each
// touched chunk and counter once.
func (w *writer) foldResults(tx *bolt.Tx, rs []model.Result) error {
	if len(rs) == 0 {
		return nil
	}
	type chunkRef struct {
		check string
		start int64
	}
	chunks := map[chunkRef][]model.Result{}
	var order []chunkRef
	for _, r := range rs {
		ref := chunkRef{r.Check, floorTo(r.Time.UnixMilli(), resultsChunkMs)}
		if _, ok := chunks[ref]; !ok {
			order = append(order, ref)
		}
		chunks[ref] = append(chunks[ref], r)
	}
	for _, ref := range order {
		rb, err := tx.Bucket(bResults).CreateBucketIfNotExists([]byte(ref.check))
		if err != nil {
			return err
		}
		rb.FillPercent = 1
		key := timeKey(ref.start)
		stored, err := decodeResults(ref.start, rb.Get(key), ref.check)
		if err != nil {
			w.db.log.Error("storage: corrupt result chunk replaced", "check", ref.check, "chunk", msTime(ref.start), "err", err)
			stored = nil
		}
		for _, r := range chunks[ref] {
			// Keep time order; results with equal times are all kept, in
			// the order they were applied.
			t := r.Time.UnixMilli()
			i := len(stored)
			for i > 0 && stored[i-1].Time.UnixMilli() > t {
				i--
			}
			stored = append(stored, model.Result{})
			copy(stored[i+1:], stored[i:])
			stored[i] = r
		}
		if err := rb.Put(key, encodeResults(ref.start, stored)); err != nil {
			return err
		}
	}

	type countRef struct {
		check string
		daily bool
		start int64
	}
	counts := map[countRef]UptimeStats{}
	var corder []countRef
	for _, r := range rs {
		t := r.Time.UnixMilli()
		for _, ref := range []countRef{{r.Check, false, floorTo(t, hourMs)}, {r.Check, true, floorTo(t, dayMs)}} {
			c, ok := counts[ref]
			if !ok {
				corder = append(corder, ref)
			}
			c.add(uptimeState(r))
			counts[ref] = c
		}
	}
	for _, ref := range corder {
		ub, err := tx.Bucket(bUptime).CreateBucketIfNotExists([]byte(ref.check))
		if err != nil {
			return err
		}
		name := bUptimeHourly
		if ref.daily {
			name = bUptimeDaily
		}
		b, err := ub.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		b.FillPercent = 1
		k := timeKey(ref.start)
		c := decodeCounts(b.Get(k))
		c.merge(counts[ref])
		if err := b.Put(k, c.encode()); err != nil {
			return err
		}
	}
	return nil
}
