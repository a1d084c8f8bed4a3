package storage

import (
	"encoding/binary"
	"math"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// The log bucket holds, in the order they were applied, the samples and
// results committed since the last fold (see the package doc). Keys are the
// bucket's sequence numbers (8 bytes big-endian), so every record is an
// append at the end of the bucket: a tick dirties the last leaf and its
// branch path, whatever the number of series. Values start with a kind byte
// and the record's time (8 bytes, putTime):
//
//	'S' sample: then per applied point uvarint(id<<1 | wide) and the value,
//	    4 bytes of float32 bits (wide = 0, the value is exactly a float32)
//	    or 8 bytes of float64 bits (wide = 1); a sample whose points were
//	    all dropped still gets a record, so replay sees every tick
//	'R' result: then the check name (uvarint length + bytes) and the result
//	    as a one-entry result chunk starting at the record's time
const (
	logSample = 'S'
	logResult = 'R'

	logHeader = 9 // kind + time
)

// maxLogRecords bounds the log between folds: a fold normally happens when
// a record opens a new raw window (about 120 ticks plus their results), but
// a clock stuck in the past or a stream of late records would otherwise
// grow the log without bound.
const maxLogRecords = 1024

func newLogRecord(kind byte, t int64, capacity int) []byte {
	b := make([]byte, logHeader, capacity)
	b[0] = kind
	putTime(b[1:], t)
	return b
}

// appendLogPoint appends one point of a sample record. Values that are
// exactly float32 (integers, most percentages) take 4 bytes; the rest keep
// all 64 bits so replay rebuilds the minute and hour aggregates exactly.
func appendLogPoint(b []byte, id uint32, v float64) []byte {
	if f := float32(v); float64(f) == v {
		b = binary.AppendUvarint(b, uint64(id)<<1)
		return binary.BigEndian.AppendUint32(b, math.Float32bits(f))
	}
	b = binary.AppendUvarint(b, uint64(id)<<1|1)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

// decodeLogSample calls fn for every point of a sample record until fn
// returns false.
func decodeLogSample(v []byte, fn func(id uint32, x float64) bool) error {
	r := reader{b: v[logHeader:]}
	for len(r.b) > 0 {
		h := r.uvarint()
		if r.err != nil || h>>1 > math.MaxUint32 {
			return errBadRecord
		}
		var x float64
		if h&1 == 0 {
			b := r.bytes(4)
			if b == nil {
				return errBadRecord
			}
			x = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
		} else {
			b := r.bytes(8)
			if b == nil {
				return errBadRecord
			}
			x = math.Float64frombits(binary.BigEndian.Uint64(b))
		}
		if !fn(uint32(h>>1), x) {
			return nil
		}
	}
	return nil
}

func encodeLogResult(r model.Result) []byte {
	t := r.Time.UnixMilli()
	body := encodeResults(t, []model.Result{r})
	b := newLogRecord(logResult, t, logHeader+binary.MaxVarintLen64+len(r.Check)+len(body))
	b = appendString(b, r.Check)
	return append(b, body...)
}

// logResultCheck returns the check name of a result record (pointing into
// v) and the encoded result after it.
func logResultCheck(v []byte) (name, body []byte, err error) {
	r := reader{b: v[logHeader:]}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return nil, nil, errBadRecord
	}
	name = r.bytes(int(n))
	return name, r.b, nil
}

func decodeLogResult(v []byte) (model.Result, error) {
	check, body, err := logResultCheck(v)
	if err != nil {
		return model.Result{}, err
	}
	rs, err := decodeResults(getTime(v[1:]), body, string(check))
	if err != nil || len(rs) != 1 {
		return model.Result{}, errBadRecord
	}
	return rs[0], nil
}

// logRecords calls fn for every log record of the given kind, oldest first.
// A missing log bucket (a file not yet migrated) has no records.
func logRecords(tx *bolt.Tx, kind byte, fn func(t int64, v []byte) error) error {
	b := tx.Bucket(bLog)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) < logHeader {
			return errBadRecord
		}
		if v[0] != kind {
			continue
		}
		if err := fn(getTime(v[1:]), v); err != nil {
			return err
		}
	}
	return nil
}

// logSeries calls fn for every unfolded point of series id, oldest first.
func logSeries(tx *bolt.Tx, id uint32, fn func(t int64, x float64)) error {
	return logRecords(tx, logSample, func(t int64, v []byte) error {
		return decodeLogSample(v, func(pid uint32, x float64) bool {
			if pid == id {
				fn(t, x)
				return false // a series appears at most once per sample
			}
			return true
		})
	})
}

// logResults returns the unfolded results of check, in the order they were
// applied.
func logResults(tx *bolt.Tx, check string) ([]model.Result, error) {
	var out []model.Result
	err := logRecords(tx, logResult, func(_ int64, v []byte) error {
		name, _, err := logResultCheck(v)
		if err != nil || string(name) != check { // no allocation for the comparison
			return err
		}
		r, err := decodeLogResult(v)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
