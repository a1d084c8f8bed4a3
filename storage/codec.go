package storage

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/dashd/dashd/model"
)

// errBadRecord is wrapped into ErrCorrupt by the callers that know which
// key held the record.
var errBadRecord = errors.New("truncated or malformed record")

const (
	minuteMs = int64(time.Minute / time.Millisecond)
	hourMs   = int64(time.Hour / time.Millisecond)
	dayMs    = 24 * hourMs

	rawChunkMs     = 2 * minuteMs  // one raw chunk per series per 2 minutes
	resultsChunkMs = 10 * minuteMs // one result chunk per check per 10 minutes

	noTime = math.MinInt64 // "no point yet" in a head
)

// floorTo rounds ms down to a multiple of step (also for negative times).
func floorTo(ms, step int64) int64 {
	r := ms % step
	if r < 0 {
		r += step
	}
	return ms - r
}

// msTime converts stored milliseconds back to a time.Time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms) }

// putTime writes ms as 8 big-endian bytes with the sign bit flipped, so byte
// order is time order for every int64 (times before 1970 included).
func putTime(b []byte, ms int64) { binary.BigEndian.PutUint64(b, uint64(ms)^(1<<63)) }

// getTime is the inverse of putTime.
func getTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func timeKey(ms int64) []byte {
	k := make([]byte, 8)
	putTime(k, ms)
	return k
}

// chunkKey is the 12-byte key of a series chunk: window start, then series id.
// Putting the time first keeps all open chunks of all series together at the
// end of the bucket (few dirty pages per tick) and makes retention a prefix
// delete.
func chunkKey(start int64, id uint32) []byte {
	k := make([]byte, 12)
	putTime(k, start)
	binary.BigEndian.PutUint32(k[8:], id)
	return k
}

func u64Key(v uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, v)
	return k
}

func u32Key(v uint32) []byte {
	k := make([]byte, 4)
	binary.BigEndian.PutUint32(k, v)
	return k
}

// reader decodes varints and strings and remembers the first error, so
// decoders check once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errBadRecord
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errBadRecord
		return ""
	}
	return string(r.bytes(int(n)))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ---- raw chunks ----

// rawEnc is the encoder state of a raw chunk: each point is the
// delta-of-delta of its millisecond time (zigzag varint, one byte at a steady
// tick) and the XOR of its float32 bits with the previous value's (uvarint:
// one byte when the value repeats, about three for noisy data).
type rawEnc struct {
	prevT     int64
	prevDelta int64
	prevBits  uint32
}

func appendRawPoint(buf []byte, e *rawEnc, t int64, v float32) []byte {
	delta := t - e.prevT
	buf = binary.AppendVarint(buf, delta-e.prevDelta)
	bits := math.Float32bits(v)
	buf = binary.AppendUvarint(buf, uint64(bits^e.prevBits))
	e.prevT, e.prevDelta, e.prevBits = t, delta, bits
	return buf
}

// decodeRaw calls fn for every point of the raw chunk starting at start.
func decodeRaw(start int64, buf []byte, fn func(t int64, v float64)) error {
	e := rawEnc{prevT: start}
	r := reader{b: buf}
	for len(r.b) > 0 {
		dod := r.varint()
		x := r.uvarint()
		if r.err != nil || x > math.MaxUint32 {
			return errBadRecord
		}
		delta := e.prevDelta + dod
		e.prevT += delta
		e.prevDelta = delta
		e.prevBits ^= uint32(x)
		fn(e.prevT, float64(math.Float32frombits(e.prevBits)))
	}
	return nil
}

// ---- rollup chunks ----

// rollup is one closed minute or hour of one series.
type rollup struct {
	start    int64 // ms, start of the minute or hour
	count    uint32
	min, max float64
	avg      float64
	last     float64
}

// rollupShift drops the low mantissa bits of rollup values: they keep 16
// bits of mantissa (relative precision 1e-5, five significant digits, far
// below a chart pixel) and their XORs get a byte shorter.
const rollupShift = 7

// packRollup rounds f to a float32 with a 16-bit mantissa and returns its
// top 25 bits.
func packRollup(f float64) uint32 {
	bits := math.Float32bits(float32(f))
	if bits&0x7f800000 != 0x7f800000 { // leave Inf alone; round the rest to nearest
		bits += 1 << (rollupShift - 1)
	}
	return bits >> rollupShift
}

func unpackRollup(p uint32) float64 { return float64(math.Float32frombits(p << rollupShift)) }

// roundRollup is what a value reads back as after a trip through a rollup chunk.
func roundRollup(f float64) float64 { return unpackRollup(packRollup(f)) }

// encodeRollups writes rollups (sorted by start, all inside the chunk) as:
// slot gap (uvarint, 0 for consecutive slots), count (uvarint), then min, max,
// avg, last each as the XOR of its packed bits (packRollup) with the same
// field of the previous entry (uvarint).
func encodeRollups(slotMs, chunkStart int64, rs []rollup) []byte {
	buf := make([]byte, 0, len(rs)*14)
	prevSlot := int64(-1)
	var prev [4]uint32
	for _, r := range rs {
		slot := (r.start - chunkStart) / slotMs
		buf = binary.AppendUvarint(buf, uint64(slot-prevSlot-1))
		prevSlot = slot
		buf = binary.AppendUvarint(buf, uint64(r.count))
		for i, f := range [4]float64{r.min, r.max, r.avg, r.last} {
			bits := packRollup(f)
			buf = binary.AppendUvarint(buf, uint64(bits^prev[i]))
			prev[i] = bits
		}
	}
	return buf
}

func decodeRollups(slotMs, chunkStart int64, buf []byte) ([]rollup, error) {
	if len(buf) == 0 {
		return nil, nil
	}
	rs := make([]rollup, 0, len(buf)/8)
	r := reader{b: buf}
	prevSlot := int64(-1)
	var prev [4]uint32
	for len(r.b) > 0 {
		slot := prevSlot + 1 + int64(r.uvarint())
		prevSlot = slot
		ro := rollup{start: chunkStart + slot*slotMs, count: uint32(r.uvarint())}
		var f [4]float64
		for i := range f {
			prev[i] ^= uint32(r.uvarint())
			f[i] = unpackRollup(prev[i])
		}
		if r.err != nil {
			return nil, r.err
		}
		ro.min, ro.max, ro.avg, ro.last = f[0], f[1], f[2], f[3]
		rs = append(rs, ro)
	}
	return rs, nil
}

// ---- result chunks ----

// encodeResults writes results (sorted by time, all inside the chunk) as a
// dictionary of the Values keys, then per result: delta-of-delta of the
// millisecond time (varint), state (1 byte), latency in ns (uvarint), reason
// (0 empty, 1 same as previous, n+2 followed by n bytes), the number of
// values and per value its dictionary index and the XOR of its float64 bits
// with the previous value of the same key.
// The state byte of a result: the state in the low bits, and the
// maintenance flag (see model.Result.Maintenance) in the top bit, which
// files written before it never set.
const (
	stateMask      = 0x7f
	maintenanceBit = 0x80
)

// uptimeState is how a result counts in the uptime counters: a result
// taken in maintenance counts as unknown, which availability leaves out.
func uptimeState(r model.Result) model.State {
	if r.Maintenance {
		return model.StateUnknown
	}
	return r.State
}

func encodeResults(chunkStart int64, rs []model.Result) []byte {
	var dict []string
	idx := map[string]int{}
	keys := make([][]string, len(rs))
	for i, r := range rs {
		ks := make([]string, 0, len(r.Values))
		for k := range r.Values {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		keys[i] = ks
		for _, k := range ks {
			if _, ok := idx[k]; !ok {
				idx[k] = len(dict)
				dict = append(dict, k)
			}
		}
	}
	buf := make([]byte, 0, 16+len(rs)*12)
	buf = binary.AppendUvarint(buf, uint64(len(dict)))
	for _, k := range dict {
		buf = appendString(buf, k)
	}
	prevVals := make([]uint64, len(dict))
	prevT, prevDelta := chunkStart, int64(0)
	prevReason := ""
	for i, r := range rs {
		t := r.Time.UnixMilli()
		delta := t - prevT
		buf = binary.AppendVarint(buf, delta-prevDelta)
		prevT, prevDelta = t, delta
		st := byte(r.State) & stateMask
		if r.Maintenance {
			st |= maintenanceBit
		}
		buf = append(buf, st)
		lat := r.Latency
		if lat < 0 {
			lat = 0
		}
		buf = binary.AppendUvarint(buf, uint64(lat))
		switch {
		case r.Reason == "":
			buf = append(buf, 0)
		case r.Reason == prevReason:
			buf = append(buf, 1)
		default:
			buf = binary.AppendUvarint(buf, uint64(len(r.Reason))+2)
			buf = append(buf, r.Reason...)
		}
		if r.Reason != "" {
			prevReason = r.Reason
		}
		buf = binary.AppendUvarint(buf, uint64(len(keys[i])))
		for _, k := range keys[i] {
			j := idx[k]
			bits := math.Float64bits(r.Values[k])
			buf = binary.AppendUvarint(buf, uint64(j))
			buf = binary.AppendUvarint(buf, bits^prevVals[j])
			prevVals[j] = bits
		}
	}
	return buf
}

func decodeResults(chunkStart int64, buf []byte, check string) ([]model.Result, error) {
	if len(buf) == 0 {
		return nil, nil
	}
	r := reader{b: buf}
	n := r.uvarint()
	if n > uint64(len(buf)) {
		return nil, errBadRecord
	}
	dict := make([]string, n)
	for i := range dict {
		dict[i] = r.string()
	}
	prevVals := make([]uint64, n)
	prevT, prevDelta := chunkStart, int64(0)
	prevReason := ""
	var rs []model.Result
	for r.err == nil && len(r.b) > 0 {
		res := model.Result{Check: check}
		delta := prevDelta + r.varint()
		prevT += delta
		prevDelta = delta
		res.Time = msTime(prevT)
		st := r.byte()
		res.State, res.Maintenance = model.State(st&stateMask), st&maintenanceBit != 0
		res.Latency = time.Duration(r.uvarint())
		switch c := r.uvarint(); c {
		case 0:
		case 1:
			res.Reason = prevReason
		default:
			res.Reason = string(r.bytes(int(c - 2)))
			prevReason = res.Reason
		}
		nv := r.uvarint()
		if nv > n {
			return nil, errBadRecord
		}
		if nv > 0 {
			res.Values = make(map[string]float64, nv)
		}
		for k := uint64(0); k < nv; k++ {
			j := r.uvarint()
			if j >= n {
				return nil, errBadRecord
			}
			prevVals[j] ^= r.uvarint()
			res.Values[dict[j]] = math.Float64frombits(prevVals[j])
		}
		rs = append(rs, res)
	}
	if r.err != nil {
		return nil, r.err
	}
	return rs, nil
}

// ---- single records ----

func encodeEvent(e model.Event) []byte {
	b := make([]byte, 8, 32+len(e.Check)+len(e.Reason))
	binary.BigEndian.PutUint64(b, uint64(e.Time.UnixNano()))
	b = append(b, byte(e.From), byte(e.To))
	b = appendString(b, string(e.Kind))
	b = appendString(b, e.Check)
	b = appendString(b, e.Reason)
	if e.User == "" && e.Address == "" {
		return b // as written before events had them
	}
	b = appendString(b, e.User)
	return appendString(b, e.Address)
}

func decodeEvent(id uint64, v []byte) (model.Event, error) {
	r := reader{b: v}
	e := model.Event{ID: id}
	e.Time = time.Unix(0, int64(r.u64()))
	e.From = model.State(r.byte())
	e.To = model.State(r.byte())
	e.Kind = model.EventKind(r.string())
	e.Check = r.string()
	e.Reason = r.string()
	if r.err == nil && len(r.b) > 0 { // who and from where, when recorded
		e.User = r.string()
		e.Address = r.string()
	}
	return e, r.err
}

func encodeNotification(n model.Notification) []byte {
	b := make([]byte, 8, 32+len(n.Title)+len(n.Body)+len(n.Check))
	binary.BigEndian.PutUint64(b, uint64(n.Time.UnixNano()))
	b = append(b, byte(n.Level))
	b = appendString(b, n.Title)
	b = appendString(b, n.Body)
	return appendString(b, n.Check)
}

func decodeNotification(id uint64, v []byte) (model.Notification, error) {
	r := reader{b: v}
	n := model.Notification{ID: id}
	n.Time = time.Unix(0, int64(r.u64()))
	n.Level = model.State(r.byte())
	n.Title = r.string()
	n.Body = r.string()
	n.Check = r.string()
	return n, r.err
}

// encodeChat writes time, author and text, then the origin hub only when
// there is one: a message said here is stored as before Origin existed,
// and a record without it decodes with Origin "".
func encodeChat(m model.ChatMessage) []byte {
	b := make([]byte, 8, 16+len(m.Author)+len(m.Text)+len(m.Origin))
	binary.BigEndian.PutUint64(b, uint64(m.Time.UnixNano()))
	b = appendString(b, m.Author)
	b = appendString(b, m.Text)
	if m.Origin != "" {
		b = appendString(b, m.Origin)
	}
	return b
}

func decodeChat(id uint64, room string, v []byte) (model.ChatMessage, error) {
	r := reader{b: v}
	m := model.ChatMessage{ID: id, Room: room}
	m.Time = time.Unix(0, int64(r.u64()))
	m.Author = r.string()
	m.Text = r.string()
	if r.err == nil && len(r.b) > 0 {
		m.Origin = r.string()
	}
	return m, r.err
}

// recordTime reads the leading 8-byte nanosecond time shared by events,
// notifications and chat messages (used by retention without a full decode).
func recordTime(v []byte) (int64, bool) {
	if len(v) < 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

// ---- heads ----

// agg is the open (not yet closed) minute or hour of a series.
type agg struct {
	start    int64
	count    uint32
	min, max float64
	sum      float64
	last     float64
}

func (a *agg) add(start int64, v float64) {
	if a.count == 0 {
		*a = agg{start: start, count: 1, min: v, max: v, sum: v, last: v}
		return
	}
	a.count++
	a.min = math.Min(a.min, v)
	a.max = math.Max(a.max, v)
	a.sum += v
	a.last = v
}

func (a agg) rollup() rollup {
	return rollup{start: a.start, count: a.count, min: a.min, max: a.max, avg: a.sum / float64(a.count), last: a.last}
}

// head is the per-series state the writer needs to continue after a restart:
// the encoder state of the open raw chunk and the partial aggregates of the
// open minute and hour. It is rewritten in every transaction that touches the
// series, so a restart (or a crash) continues exactly where the last commit
// left off.
type head struct {
	lastT     int64 // ms of the newest raw point, noTime if none
	prevDelta int64 // raw encoder state inside the open chunk
	lastV     float64
	minute    agg
	hour      agg
}

const headSize = 24 + 2*aggSize
const aggSize = 8 + 4 + 4*8

func putAgg(b []byte, a agg) {
	binary.BigEndian.PutUint64(b, uint64(a.start))
	binary.BigEndian.PutUint32(b[8:], a.count)
	for i, f := range [4]float64{a.min, a.max, a.sum, a.last} {
		binary.BigEndian.PutUint64(b[12+8*i:], math.Float64bits(f))
	}
}

func getAgg(b []byte) agg {
	a := agg{start: int64(binary.BigEndian.Uint64(b)), count: binary.BigEndian.Uint32(b[8:])}
	f := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b[12+8*i:])) }
	a.min, a.max, a.sum, a.last = f(0), f(1), f(2), f(3)
	return a
}

func encodeHead(h head) []byte {
	b := make([]byte, headSize)
	binary.BigEndian.PutUint64(b, uint64(h.lastT))
	binary.BigEndian.PutUint64(b[8:], uint64(h.prevDelta))
	binary.BigEndian.PutUint64(b[16:], math.Float64bits(h.lastV))
	putAgg(b[24:], h.minute)
	putAgg(b[24+aggSize:], h.hour)
	return b
}

func decodeHead(b []byte) (head, error) {
	if len(b) != headSize {
		return head{}, errBadRecord
	}
	h := head{
		lastT:     int64(binary.BigEndian.Uint64(b)),
		prevDelta: int64(binary.BigEndian.Uint64(b[8:])),
		lastV:     math.Float64frombits(binary.BigEndian.Uint64(b[16:])),
		minute:    getAgg(b[24:]),
		hour:      getAgg(b[24+aggSize:]),
	}
	return h, nil
}
