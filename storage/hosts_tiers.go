package storage

// # Fleet host tiers
//
// A hub keeps each host's history in two rollup tiers, next to a short
// raw window (fleet/<host>/samples, pruned to what the hub asks: the raw
// history stays on the agent, which answers range requests for it):
//
//	fleet/<host>/m1   <minute start><series id> -> rollup record
//	fleet/<host>/h1   <hour start><series id>   -> rollup record
//	fleet/<host>/hw   (a key, not a bucket) -> time key of the newest
//	                  sample folded into the tiers
//
// A rollup record is 20 bytes: count (uint32), min and max (float32 bits)
// and the sum (float64 bits), so the average is exact over the slot. Keys
// put the time first: the slots being filled sit together at the end of
// the bucket, and retention deletes a prefix.
//
// Folding a sample into a slot is not idempotent (a sum counts twice), so
// the tiers take a host's samples once each, in time order: a sample not
// newer than hw (a redelivery after a hub restart, a spool replaying what
// was stored) is written to the raw window (same key, same value) but not
// folded again. An agent's samples reach the hub in the order they were
// made (its publisher and spool keep it), so nothing new is skipped; a
// sample from an agent whose clock stepped back is kept raw only.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dashd/dashd/model"
)

var (
	bHostM1 = []byte("m1")
	bHostH1 = []byte("h1")
	kHostHW = []byte("hw")
)

const hostRollupSize = 20

// hostTierSpec is a fleet host tier: its bucket and slot width.
type hostTierSpec struct {
	bucket []byte
	slotMs int64
}

var hostTiers = []hostTierSpec{{bHostM1, minuteMs}, {bHostH1, hourMs}}

// foldSample adds a sample's points (already given ids) to the host's
// tiers, unless the tiers have it already (see # Fleet host tiers).
func (h *hostTx) foldSample(t int64, ids []uint32, vals []float64) error {
	if h.hw == nil {
		v := h.b.Get(kHostHW)
		hw := int64(math.MinInt64)
		if len(v) == 8 {
			hw = getTime(v)
		}
		h.hw = &hw
	}
	if t <= *h.hw {
		return nil
	}
	*h.hw = t
	for _, tier := range hostTiers {
		b := h.b.Bucket(tier.bucket)
		b.FillPercent = 0.9
		start := floorTo(t, tier.slotMs)
		for i, id := range ids {
			if err := foldRollup(b, chunkKey(start, id), vals[i]); err != nil {
				return err
			}
		}
	}
	return h.b.Put(kHostHW, timeKey(t))
}

// foldRollup adds v to the rollup record at k.
func foldRollup(b *bolt.Bucket, k []byte, v float64) error {
	var rec [hostRollupSize]byte
	if old := b.Get(k); len(old) == hostRollupSize {
		copy(rec[:], old)
		n := binary.BigEndian.Uint32(rec[0:])
		lo := float64(math.Float32frombits(binary.BigEndian.Uint32(rec[4:])))
		hi := float64(math.Float32frombits(binary.BigEndian.Uint32(rec[8:])))
		sum := math.Float64frombits(binary.BigEndian.Uint64(rec[12:]))
		putHostRollup(rec[:], n+1, math.Min(lo, v), math.Max(hi, v), sum+v)
	} else {
		putHostRollup(rec[:], 1, v, v, v)
	}
	return b.Put(k, rec[:])
}

func putHostRollup(b []byte, n uint32, lo, hi, sum float64) {
	binary.BigEndian.PutUint32(b[0:], n)
	binary.BigEndian.PutUint32(b[4:], math.Float32bits(float32(lo)))
	binary.BigEndian.PutUint32(b[8:], math.Float32bits(float32(hi)))
	binary.BigEndian.PutUint64(b[12:], math.Float64bits(sum))
}

func getHostRollup(start int64, v []byte) (rollup, bool) {
	if len(v) != hostRollupSize {
		return rollup{}, false
	}
	n := binary.BigEndian.Uint32(v[0:])
	if n == 0 {
		return rollup{}, false
	}
	r := rollup{start: start, count: n,
		min: float64(math.Float32frombits(binary.BigEndian.Uint32(v[4:]))),
		max: float64(math.Float32frombits(binary.BigEndian.Uint32(v[8:]))),
		avg: math.Float64frombits(binary.BigEndian.Uint64(v[12:])) / float64(n)}
	r.last = r.avg
	return r, true
}

// HostTierRange returns host's points of series in [from, to] (both
// inclusive) from one of the hub's tiers, oldest first, downsampled to at
// most maxPoints (<= 0: all): TierRaw reads the hub's short raw window,
// TierMinute and TierHour the rollups (the slot being filled included).
// An unknown host or series yields no points and no error.
func (db *DB) HostTierRange(host, series string, tier Tier, from, to time.Time, maxPoints int) ([]SeriesPoint, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("storage: host %s range %q: %w: to %s before from %s", host, series, ErrInvalid, to, from)
	}
	f, t := from.UnixMilli(), to.UnixMilli()
	var pts []rollup
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		idb := hb.Bucket(bHostSeries).Get([]byte(series))
		if len(idb) != 4 {
			return nil
		}
		id := beUint32(idb)
		if tier == TierRaw {
			readHostRaw(hb, id, f, t, &pts)
			return nil
		}
		spec := hostTiers[0]
		if tier == TierHour {
			spec = hostTiers[1]
		}
		b := hb.Bucket(spec.bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(timeKey(floorTo(f, spec.slotMs))); len(k) == 12; k, v = c.Next() {
			start := getTime(k)
			if start > t {
				break
			}
			if beUint32(k[8:]) != id {
				continue
			}
			if r, ok := getHostRollup(start, v); ok {
				pts = append(pts, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host %s range %q: %w", host, series, err)
	}
	return downsample(pts, f, t, maxPoints), nil
}

// readHostRaw collects the raw points of series id from the host's raw
// window.
func readHostRaw(hb *bolt.Bucket, id uint32, from, to int64, pts *[]rollup) {
	c := hb.Bucket(bHostSamples).Cursor()
	for k, v := c.Seek(timeKey(from)); k != nil; k, v = c.Next() {
		ms := getTime(k)
		if ms > to {
			break
		}
		if val, ok := hostPointValue(v, uint64(id)); ok {
			*pts = append(*pts, rollup{start: ms, count: 1, min: val, max: val, avg: val, last: val})
		}
	}
}

// PruneHostTiers deletes every host's minute slots that started before
// minute and hour slots that started before hour, in transactions of at
// most 5000 keys; it returns how many it deleted.
func (db *DB) PruneHostTiers(minute, hour time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := db.update(func(tx *bolt.Tx) error {
			f := tx.Bucket(bFleet)
			if f == nil {
				return nil
			}
			return f.ForEachBucket(func(name []byte) error {
				hb := f.Bucket(name)
				for _, p := range []struct {
					bucket []byte
					before time.Time
				}{{bHostM1, minute}, {bHostH1, hour}} {
					b := hb.Bucket(p.bucket)
					if b == nil {
						continue
					}
					cut := timeKey(p.before.UnixMilli())
					c := b.Cursor()
					for k, _ := c.First(); k != nil && n < 5000 && len(k) >= 8 && bytes.Compare(k[:8], cut) < 0; {
						next := append([]byte(nil), k...)
						if err := c.Delete(); err != nil {
							return err
						}
						n++
						k, _ = c.Seek(next) // see PruneHosts
					}
				}
				return nil
			})
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("storage: prune fleet host tiers: %w", err)
		}
		if n < 5000 {
			return total, nil
		}
	}
}

// foldPoints is what putSample folds: the ids and values it stored.
type foldPoints struct {
	ids  []uint32
	vals []float64
}

func (f *foldPoints) add(id uint32, p model.Point) {
	f.ids = append(f.ids, id)
	f.vals = append(f.vals, p.Value)
}
