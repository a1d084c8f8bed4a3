package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
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
func (db *DB) HostLatestState(host string, scan, perCheck int) (HostLatest, bool, error) {
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
		c := rb.Cursor()
		n := 0
		for k, v := c.Last(); k != nil && n < scan; k, v = c.Prev() {
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
