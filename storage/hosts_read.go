package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dashd/dashd/model"
)

// Reads of one fleet host's newest state, for the hub's pages and API
// (see "Fleet hosts" in hosts.go for the layout). Every read is one short
// View and bounded by its arguments: a host with a long history costs no
// more than one with a short one.

// HostLatest is a host's newest stored state: its record, its newest
// sample (zero Time when none) and, per check, its newest results.
type HostLatest struct {
	Info   HostInfo
	Sample model.Sample
	// Results holds each check's newest results, newest first, at most
	// perCheck of them (HostLatestState's argument), among the host's
	// newest scan results.
	Results map[string][]model.Result
}

// HostLatestState returns host's newest state, reading at most scan of its
// newest results; ok is false when the hub has never heard of host.
//
// checks, when given, are the host's checks as the caller last knew them:
// the scan stops as soon as each of them has perCheck results (the
// results of other checks met on the way are kept too), instead of
// walking all scan results of a host whose checks all ran moments ago.
// A check that is no longer run is simply not found: the scan then ends
// at scan, as without checks.
func (db *DB) HostLatestState(host string, scan, perCheck int, checks ...string) (HostLatest, bool, error) {
	out := HostLatest{Results: map[string][]model.Result{}}
	found := false
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		found = true
		info, err := readHostInfo(hb, host)
		if err != nil {
			return err
		}
		out.Info = info
		if sb := hb.Bucket(bHostSamples); sb != nil {
			if k, v := sb.Cursor().Last(); k != nil {
				names, err := hostSeriesNames(hb)
				if err != nil {
					return err
				}
				pts, err := decodeHostPoints(v, names)
				if err != nil {
					return fmt.Errorf("host %s newest sample: %w", host, err)
				}
				out.Sample = model.Sample{Time: msTime(getTime(k)), Points: pts}
			}
		}
		rb := hb.Bucket(bHostResults)
		if rb == nil {
			return nil
		}
		// missing counts the known checks that still lack perCheck
		// results; the scan is over when it reaches 0.
		want := make(map[string]bool, len(checks))
		for _, ch := range checks {
			want[ch] = true
		}
		missing := len(want)
		c := rb.Cursor()
		n := 0
		for k, v := c.Last(); k != nil && n < scan && (missing > 0 || len(want) == 0); k, v = c.Prev() {
			n++
			if len(k) <= 8 {
				continue
			}
			check := string(k[8:])
			if len(out.Results[check]) >= perCheck {
				continue
			}
			var r model.Result
			if err := json.Unmarshal(v, &r); err != nil {
				db.log.Warn("skipping a host result that cannot be decoded", "host", host, "err", err)
				continue
			}
			out.Results[check] = append(out.Results[check], r)
			if want[check] && len(out.Results[check]) == perCheck {
				missing--
			}
		}
		return nil
	})
	if err != nil {
		return HostLatest{}, false, fmt.Errorf("storage: host %s latest: %w", host, err)
	}
	return out, found, nil
}

// HostCheckResults returns up to limit results of one check of host with
// from <= time < to, oldest first, reading at most scan results of the
// host in that range (the results of all its checks share one bucket).
func (db *DB) HostCheckResults(host, check string, from, to time.Time, limit, scan int) ([]model.Result, error) {
	var out []model.Result
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		c := hb.Bucket(bHostResults).Cursor()
		end := to.UnixMilli()
		n := 0
		for k, v := c.Seek(timeKey(from.UnixMilli())); k != nil && len(out) < limit && n < scan; k, v = c.Next() {
			n++
			if len(k) < 8 || getTime(k) >= end {
				break
			}
			if string(k[8:]) != check {
				continue
			}
			var r model.Result
			if err := json.Unmarshal(v, &r); err != nil {
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host %s check %s results: %w", host, check, err)
	}
	return out, nil
}

// HostCheckRecentResults returns up to limit of the newest results of one
// check of host with from <= time < to, oldest first, reading at most scan
// results of the host backwards from to. HostCheckResults starts at from
// and, on a host with many checks, stops at scan long before the newest:
// a page that shows a check's last results, its state and its recent
// uptime reads this instead. A zero from reads back as far as scan goes.
func (db *DB) HostCheckRecentResults(host, check string, from, to time.Time, limit, scan int) ([]model.Result, error) {
	var out []model.Result
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		rb := hb.Bucket(bHostResults)
		if rb == nil {
			return nil
		}
		c := rb.Cursor()
		// The newest key before to: the one before the first at or after it.
		var k, v []byte
		if at, _ := c.Seek(timeKey(to.UnixMilli())); at == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		start := int64(math.MinInt64)
		if !from.IsZero() {
			start = from.UnixMilli()
		}
		for n := 0; k != nil && len(out) < limit && n < scan; k, v = c.Prev() {
			n++
			if len(k) < 8 || getTime(k) < start {
				break
			}
			if string(k[8:]) != check {
				continue
			}
			var r model.Result
			if err := json.Unmarshal(v, &r); err != nil {
				db.log.Warn("skipping a host result that cannot be decoded", "host", host, "check", check, "err", err)
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host %s check %s recent results: %w", host, check, err)
	}
	slices.Reverse(out)
	return out, nil
}

// HostSeriesNames lists the series host has sent, sorted.
func (db *DB) HostSeriesNames(host string) ([]string, error) {
	var out []string
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		names, err := hostSeriesNames(hb)
		for _, n := range names {
			out = append(out, n)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host %s series: %w", host, err)
	}
	sort.Strings(out)
	return out, nil
}

// hostSeriesNames maps a host's series ids to their names.
func hostSeriesNames(hb *bolt.Bucket) (map[uint32]string, error) {
	names := map[uint32]string{}
	sb := hb.Bucket(bHostSeries)
	if sb == nil {
		return names, nil
	}
	err := sb.ForEach(func(k, v []byte) error {
		if len(v) == 4 {
			names[binary.BigEndian.Uint32(v)] = string(k)
		}
		return nil
	})
	return names, err
}

// hostPointValue finds the value of series id in a stored sample.
func hostPointValue(v []byte, id uint64) (float64, bool) {
	r := reader{b: v}
	n := r.uvarint()
	if r.err != nil || n > MaxHostSeries {
		return 0, false
	}
	for range n {
		idw := r.uvarint()
		var val float64
		if idw&1 == 1 {
			val = math.Float64frombits(r.u64())
		} else if b := r.bytes(4); r.err == nil {
			val = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
		}
		if r.err != nil {
			return 0, false
		}
		if idw>>1 == id {
			return val, true
		}
	}
	return 0, false
}
