package storage

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

func beUint32(b []byte) uint32       { return binary.BigEndian.Uint32(b) }
func beUint64(b []byte) uint64       { return binary.BigEndian.Uint64(b) }
func putBEUint64(b []byte, v uint64) { binary.BigEndian.PutUint64(b, v) }

// SeriesPoint is one point of a chart: the average over its interval and
// the extremes inside it. Raw points have Min == Max == Value.
type SeriesPoint struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
}

// Tier is a resolution of stored series data.
type Tier uint8

// The tiers, finest first.
const (
	TierRaw    Tier = iota // every sample (kept Retention.Raw)
	TierMinute             // one rollup per minute (kept Retention.Minute)
	TierHour               // one rollup per hour (kept Retention.Hour)
)

// String names the tier for logs and debug output.
func (t Tier) String() string {
	switch t {
	case TierRaw:
		return "raw"
	case TierMinute:
		return "minute"
	default:
		return "hour"
	}
}

// ChooseTier returns the tier Range reads for [from, to] at maxPoints: the
// coarsest tier that still gives maxPoints distinct points (span/maxPoints
// below a minute reads raw, below an hour reads minutes), moved to a coarser
// tier when from lies beyond the finer tier's retention.
func (db *DB) ChooseTier(from, to time.Time, maxPoints int) Tier {
	return chooseTier(from, to, maxPoints, db.now(), db.opts.Retention)
}

func chooseTier(from, to time.Time, maxPoints int, now time.Time, ret Retention) Tier {
	span := to.Sub(from)
	step := span
	if maxPoints > 0 {
		step = span / time.Duration(maxPoints)
	} else {
		step = 0 // every point wanted: finest tier that has them
	}
	tier := TierHour
	switch {
	case step < time.Minute:
		tier = TierRaw
	case step < time.Hour:
		tier = TierMinute
	}
	if tier == TierRaw && from.Before(now.Add(-ret.Raw)) {
		tier = TierMinute
	}
	if tier == TierMinute && from.Before(now.Add(-ret.Minute)) {
		tier = TierHour
	}
	return tier
}

// Range returns the points of series in [from, to] (both inclusive), oldest
// first, from the tier chosen by ChooseTier, downsampled to at most
// maxPoints (maxPoints <= 0: no downsampling). Rollup tiers include the
// still-open minute or hour. An unknown series yields no points and no error.
// Values are stored as float32 (about 7 significant digits).
func (db *DB) Range(series string, from, to time.Time, maxPoints int) ([]SeriesPoint, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("storage: range %q: %w: to %s before from %s", series, ErrInvalid, to, from)
	}
	tier := db.ChooseTier(from, to, maxPoints)
	pts, err := db.readTier(series, tier, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("storage: range %q: %w", series, err)
	}
	return downsample(pts, from.UnixMilli(), to.UnixMilli(), maxPoints), nil
}

// readTier collects the stored points of one tier inside a short View.
func (db *DB) readTier(series string, tier Tier, from, to int64) ([]rollup, error) {
	var pts []rollup
	err := db.view(func(tx *bolt.Tx) error {
		idb := tx.Bucket(bSeries).Get([]byte(series))
		if len(idb) != 4 {
			return nil
		}
		id := beUint32(idb)
		if tier == TierRaw {
			b := tx.Bucket(bRaw)
			keep := func(t int64, x float64) {
				if t >= from && t <= to {
					pts = append(pts, rollup{start: t, count: 1, min: x, max: x, avg: x, last: x})
				}
			}
			for w := floorTo(from, rawChunkMs); w <= to; w += rawChunkMs {
				v := b.Get(chunkKey(w, id))
				if v == nil {
					continue
				}
				if err := decodeRaw(w, v, keep); err != nil {
					return fmt.Errorf("%w: raw chunk %s of %q: %v", ErrCorrupt, msTime(w), series, err)
				}
			}
			// Points applied since the last fold are only in the log. A
			// point is in a chunk or in the log, never both (a fold moves
			// it in one transaction); only late points, older than the open
			// window, can interleave with chunk points.
			folded := len(pts)
			err := logSeries(tx, id, func(t int64, x float64) {
				keep(t, float64(float32(x))) // as a chunk will return it after the fold
			})
			if err != nil {
				return fmt.Errorf("%w: log: %v", ErrCorrupt, err)
			}
			if folded > 0 && folded < len(pts) && pts[folded].start < pts[folded-1].start {
				sort.SliceStable(pts, func(i, j int) bool { return pts[i].start < pts[j].start })
			}
			return nil
		}
		spec, b := tierMinute, tx.Bucket(bMinute)
		if tier == TierHour {
			spec, b = tierHour, tx.Bucket(bHour)
		}
		for w := floorTo(from, spec.chunkMs); w <= to; w += spec.chunkMs {
			v := b.Get(chunkKey(w, id))
			if v == nil {
				continue
			}
			rs, err := decodeRollups(spec.slotMs, w, v)
			if err != nil {
				return fmt.Errorf("%w: %s chunk %s of %q: %v", ErrCorrupt, tier, msTime(w), series, err)
			}
			for _, r := range rs {
				if r.start >= floorTo(from, spec.slotMs) && r.start <= to {
					pts = append(pts, r)
				}
			}
		}
		// The open minute/hour lives in the writer until it closes: the
		// stored head has it as of the last fold, the log the points since.
		var a agg
		if hv := tx.Bucket(bHeads).Get(idb); hv != nil {
			h, err := decodeHead(hv)
			if err != nil {
				return fmt.Errorf("%w: head of %q: %v", ErrCorrupt, series, err)
			}
			a = h.minute
			if tier == TierHour {
				a = h.hour
			}
		}
		err := logSeries(tx, id, func(t int64, x float64) {
			// As closeRollups does; a slot the writer closed meanwhile is
			// in the chunk already and skipped below.
			if a.count > 0 && a.start != floorTo(t, spec.slotMs) && t > a.start {
				a = agg{}
			}
			a.add(floorTo(t, spec.slotMs), x)
		})
		if err != nil {
			return fmt.Errorf("%w: log: %v", ErrCorrupt, err)
		}
		if a.count > 0 && a.start >= floorTo(from, spec.slotMs) && a.start <= to &&
			(len(pts) == 0 || pts[len(pts)-1].start < a.start) {
			pts = append(pts, a.rollup())
		}
		return nil
	})
	return pts, err
}

// downsample merges points into at most maxPoints equal time buckets
// (count-weighted average, min of mins, max of maxes).
func downsample(pts []rollup, from, to int64, maxPoints int) []SeriesPoint {
	out := make([]SeriesPoint, 0, min(len(pts), max(maxPoints, 0)+1))
	if maxPoints <= 0 || len(pts) <= maxPoints {
		out = out[:0]
		for _, p := range pts {
			out = append(out, SeriesPoint{Time: msTime(p.start), Value: p.avg, Min: p.min, Max: p.max})
		}
		return out
	}
	// Rollup points may start before from (their slot does): start there.
	if pts[0].start < from {
		from = pts[0].start
	}
	width := (to - from + int64(maxPoints)) / int64(maxPoints)
	if width < 1 {
		width = 1
	}
	cur := int64(-1)
	var sum, n float64
	var sp SeriesPoint
	flush := func() {
		if n > 0 {
			sp.Value = sum / n
			out = append(out, sp)
		}
	}
	for _, p := range pts {
		bk := (p.start - from) / width
		if bk != cur {
			flush()
			cur = bk
			sum, n = 0, 0
			sp = SeriesPoint{Time: msTime(from + bk*width), Min: math.Inf(1), Max: math.Inf(-1)}
		}
		w := float64(max(p.count, 1))
		sum += p.avg * w
		n += w
		sp.Min = math.Min(sp.Min, p.min)
		sp.Max = math.Max(sp.Max, p.max)
	}
	flush()
	return out
}

// SeriesNames returns the names of all stored series, sorted.
func (db *DB) SeriesNames() ([]string, error) {
	var names []string
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bSeries).ForEach(func(k, _ []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: series names: %w", err)
	}
	return names, nil
}

// Results returns the results of check in [from, to] (both inclusive),
// oldest first, at most limit of them (limit <= 0: all). To page forward,
// call again with from just after the last result's time. Result times are
// stored with millisecond precision. Results waiting for the commit
// interval are committed first (see catchUp).
func (db *DB) Results(check string, from, to time.Time, limit int) ([]model.Result, error) {
	db.catchUp()
	f, t := from.UnixMilli(), to.UnixMilli()
	var out []model.Result
	full := func() bool { return limit > 0 && len(out) >= limit }
	err := db.view(func(tx *bolt.Tx) error {
		// Results since the last fold are in the log. In time order they
		// follow the folded ones of the same time (they were applied later).
		var unfolded []model.Result
		logged, err := logResults(tx, check)
		if err != nil {
			return fmt.Errorf("%w: log: %v", ErrCorrupt, err)
		}
		for _, r := range logged {
			if ms := r.Time.UnixMilli(); ms >= f && ms <= t {
				unfolded = append(unfolded, r)
			}
		}
		sort.SliceStable(unfolded, func(i, j int) bool { return unfolded[i].Time.Before(unfolded[j].Time) })
		emitUpTo := func(ms int64) { // unfolded results older than ms
			for len(unfolded) > 0 && unfolded[0].Time.UnixMilli() < ms && !full() {
				out = append(out, unfolded[0])
				unfolded = unfolded[1:]
			}
		}
		if b := tx.Bucket(bResults).Bucket([]byte(check)); b != nil {
			c := b.Cursor()
			for k, v := c.Seek(timeKey(floorTo(f, resultsChunkMs))); k != nil && getTime(k) <= t && !full(); k, v = c.Next() {
				rs, err := decodeResults(getTime(k), v, check)
				if err != nil {
					return fmt.Errorf("%w: result chunk %s: %v", ErrCorrupt, msTime(getTime(k)), err)
				}
				for _, r := range rs {
					ms := r.Time.UnixMilli()
					if ms < f || ms > t {
						continue
					}
					emitUpTo(ms)
					if full() {
						return nil
					}
					out = append(out, r)
				}
			}
		}
		emitUpTo(math.MaxInt64)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: results of %q: %w", check, err)
	}
	return out, nil
}

// LastResults returns the n newest results of check, newest first,
// those waiting for the commit interval included (see catchUp).
func (db *DB) LastResults(check string, n int) ([]model.Result, error) {
	db.catchUp()
	var out []model.Result
	err := db.view(func(tx *bolt.Tx) error {
		unfolded, err := logResults(tx, check)
		if err != nil {
			return fmt.Errorf("%w: log: %v", ErrCorrupt, err)
		}
		// Newest first; on equal times the later applied (unfolded) first.
		sort.SliceStable(unfolded, func(i, j int) bool { return unfolded[i].Time.Before(unfolded[j].Time) })
		var folded []model.Result
		if b := tx.Bucket(bResults).Bucket([]byte(check)); b != nil {
			c := b.Cursor()
			for k, v := c.Last(); k != nil && len(folded) < n; k, v = c.Prev() {
				rs, err := decodeResults(getTime(k), v, check)
				if err != nil {
					return fmt.Errorf("%w: result chunk %s: %v", ErrCorrupt, msTime(getTime(k)), err)
				}
				for i := len(rs) - 1; i >= 0 && len(folded) < n; i-- {
					folded = append(folded, rs[i])
				}
			}
		}
		for len(out) < n && (len(unfolded) > 0 || len(folded) > 0) {
			if u := len(unfolded) - 1; u >= 0 && (len(folded) == 0 || !unfolded[u].Time.Before(folded[0].Time)) {
				out = append(out, unfolded[u])
				unfolded = unfolded[:u]
			} else {
				out = append(out, folded[0])
				folded = folded[1:]
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: last results of %q: %w", check, err)
	}
	return out, nil
}

// UptimeStats counts the results of a check by state over a window.
type UptimeStats struct {
	Up, Unknown, Degraded, Down uint64
}

// Known is the number of results with a known state.
func (u UptimeStats) Known() uint64 { return u.Up + u.Degraded + u.Down }

// Availability is the share of known results that were up or degraded
// (the service answered), in [0, 1]; 0 when Known is 0.
func (u UptimeStats) Availability() float64 {
	if u.Known() == 0 {
		return 0
	}
	return float64(u.Up+u.Degraded) / float64(u.Known())
}

// UpRatio is the share of known results that were fully up; 0 when Known is 0.
func (u UptimeStats) UpRatio() float64 {
	if u.Known() == 0 {
		return 0
	}
	return float64(u.Up) / float64(u.Known())
}

func (u *UptimeStats) add(s model.State) {
	switch s {
	case model.StateUp:
		u.Up++
	case model.StateDegraded:
		u.Degraded++
	case model.StateDown:
		u.Down++
	default:
		u.Unknown++
	}
}

func (u *UptimeStats) merge(o UptimeStats) {
	u.Up += o.Up
	u.Unknown += o.Unknown
	u.Degraded += o.Degraded
	u.Down += o.Down
}

// encode stores the four counters as uint32 in State order (16 bytes).
func (u UptimeStats) encode() []byte {
	b := make([]byte, 16)
	for i, v := range [4]uint64{u.Up, u.Unknown, u.Degraded, u.Down} {
		binary.BigEndian.PutUint32(b[4*i:], uint32(min(v, math.MaxUint32)))
	}
	return b
}

func decodeCounts(b []byte) UptimeStats {
	if len(b) != 16 {
		return UptimeStats{}
	}
	return UptimeStats{
		Up:       uint64(beUint32(b)),
		Unknown:  uint64(beUint32(b[4:])),
		Degraded: uint64(beUint32(b[8:])),
		Down:     uint64(beUint32(b[12:])),
	}
}

// Uptime counts the results of check over the window ending now. Windows up
// to 7 days are summed from hourly buckets (they start at the hour
// containing now-window), longer ones from daily UTC buckets (from the day
// containing now-window); so 90d is 91 reads at most.
func (db *DB) Uptime(check string, window time.Duration) (UptimeStats, error) {
	var u UptimeStats
	now := db.now().UnixMilli()
	name, step := bUptimeHourly, hourMs
	if window > 7*24*time.Hour {
		name, step = bUptimeDaily, dayMs
	}
	start := floorTo(now-window.Milliseconds(), step)
	err := db.view(func(tx *bolt.Tx) error {
		if err := countUnfolded(tx, check, func(t int64, st model.State) {
			if k := floorTo(t, step); k >= start && k <= now {
				u.add(st)
			}
		}); err != nil {
			return err
		}
		ub := tx.Bucket(bUptime).Bucket([]byte(check))
		if ub == nil || ub.Bucket(name) == nil {
			return nil
		}
		c := ub.Bucket(name).Cursor()
		for k, v := c.Seek(timeKey(start)); k != nil && getTime(k) <= now; k, v = c.Next() {
			u.merge(decodeCounts(v))
		}
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("storage: uptime of %q: %w", check, err)
	}
	return u, nil
}

// countUnfolded calls fn with the time and state of every result of check
// that is still in the log (not yet in the uptime counters).
func countUnfolded(tx *bolt.Tx, check string, fn func(t int64, st model.State)) error {
	rs, err := logResults(tx, check)
	if err != nil {
		return fmt.Errorf("%w: log: %v", ErrCorrupt, err)
	}
	for _, r := range rs {
		fn(r.Time.UnixMilli(), uptimeState(r))
	}
	return nil
}

// DayUptime is the uptime of one UTC day.
type DayUptime struct {
	Day time.Time // midnight UTC starting the day
	UptimeStats
}

// UptimeDaily returns the last days UTC days up to and including today,
// oldest first, one entry per day (zero counts where nothing was recorded),
// for uptime bars.
func (db *DB) UptimeDaily(check string, days int) ([]DayUptime, error) {
	if days <= 0 {
		return nil, nil
	}
	today := floorTo(db.now().UnixMilli(), dayMs)
	first := today - int64(days-1)*dayMs
	out := make([]DayUptime, days)
	for i := range out {
		out[i].Day = msTime(first + int64(i)*dayMs).UTC()
	}
	err := db.view(func(tx *bolt.Tx) error {
		if err := countUnfolded(tx, check, func(t int64, st model.State) {
			if i := (floorTo(t, dayMs) - first) / dayMs; floorTo(t, dayMs) >= first && i < int64(days) {
				out[i].add(st)
			}
		}); err != nil {
			return err
		}
		ub := tx.Bucket(bUptime).Bucket([]byte(check))
		if ub == nil || ub.Bucket(bUptimeDaily) == nil {
			return nil
		}
		c := ub.Bucket(bUptimeDaily).Cursor()
		for k, v := c.Seek(timeKey(first)); k != nil && getTime(k) <= today; k, v = c.Next() {
			if i := (getTime(k) - first) / dayMs; i >= 0 && i < int64(days) {
				out[i].merge(decodeCounts(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: daily uptime of %q: %w", check, err)
	}
	return out, nil
}

// Events returns up to limit events with an ID below beforeID (0: from the
// newest), newest first. Pass the last returned ID as beforeID for the next
// page.
func (db *DB) Events(beforeID uint64, limit int) ([]model.Event, error) {
	var out []model.Event
	err := db.view(func(tx *bolt.Tx) error {
		return newestFirst(tx.Bucket(bEvents), beforeID, func(id uint64, v []byte) (bool, error) {
			e, err := decodeEvent(id, v)
			if err != nil {
				return false, fmt.Errorf("%w: event %d: %v", ErrCorrupt, id, err)
			}
			out = append(out, e)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: events: %w", err)
	}
	return out, nil
}

// newestFirst walks b (keyed by uint64 IDs) backwards from the key below
// beforeID (0: the last key) while fn returns true.
func newestFirst(b *bolt.Bucket, beforeID uint64, fn func(id uint64, v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if beforeID == 0 {
		k, v = c.Last()
	} else if sk, _ := c.Seek(u64Key(beforeID)); sk == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil; k, v = c.Prev() {
		more, err := fn(beUint64(k), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// SessionNotification is a notification with its read state for one session.
type SessionNotification struct {
	model.Notification
	Read bool `json:"read"`
}

// readMark returns the highest notification ID session has marked read.
func readMark(tx *bolt.Tx, session string) uint64 {
	if v := tx.Bucket(bReads).Get([]byte(session)); len(v) == 16 {
		return beUint64(v)
	}
	return 0
}

// Notifications returns the newest limit notifications (limit <= 0: 50),
// newest first, with their read state for session.
func (db *DB) Notifications(session string, limit int) ([]SessionNotification, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []SessionNotification
	err := db.view(func(tx *bolt.Tx) error {
		mark := readMark(tx, session)
		return newestFirst(tx.Bucket(bNotifications), 0, func(id uint64, v []byte) (bool, error) {
			n, err := decodeNotification(id, v)
			if err != nil {
				return false, fmt.Errorf("%w: notification %d: %v", ErrCorrupt, id, err)
			}
			out = append(out, SessionNotification{Notification: n, Read: id <= mark})
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: notifications: %w", err)
	}
	return out, nil
}

// UnreadCount returns how many stored notifications session has not read.
func (db *DB) UnreadCount(session string) (int, error) {
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bNotifications).Cursor()
		for k, _ := c.Seek(u64Key(readMark(tx, session) + 1)); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: unread count: %w", err)
	}
	return n, nil
}

// ChatLatest returns the newest n messages of room (n <= 0: 50) in
// chronological order (oldest first), ready to render.
func (db *DB) ChatLatest(room string, n int) ([]model.ChatMessage, error) {
	if n <= 0 {
		n = 50
	}
	var out []model.ChatMessage
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bChat).Bucket([]byte(room))
		if b == nil {
			return nil
		}
		return newestFirst(b, 0, func(id uint64, v []byte) (bool, error) {
			m, err := decodeChat(id, room, v)
			if err != nil {
				return false, fmt.Errorf("%w: chat message %d: %v", ErrCorrupt, id, err)
			}
			out = append(out, m)
			return len(out) < n, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: chat of %q: %w", room, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
