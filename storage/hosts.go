package storage

// # Fleet hosts
//
// A hub stores what its agents send under one root bucket of its own,
// fleet, created by the first IngestHosts: the local host's buckets and
// keys (see the package doc) are untouched, and a dashd that predates the
// fleet ignores the bucket. Per host, a nested bucket:
//
//	fleet/<host>/info      -> JSON host record: hello (OS, kernel,
//	                          version, labels, sample interval), first and
//	                          last seen, unreachable since
//	fleet/<host>/series    <name> -> uint32 series id (the host's own ids)
//	fleet/<host>/samples   <time> -> points: uvarint count, then per point
//	                          uvarint(id<<1|wide) and float32 or float64
//	                          bits (as in the log)
//	fleet/<host>/results   <time><check> -> JSON result
//	fleet/<host>/events    <time><agent's event id> -> JSON event
//	fleet/<host>/m1, h1    minute and hour rollups (see hosts_tiers.go)
//
// Every key is made of what the agent sent (the time, the check, the
// event's id), so ingesting a message twice writes the same key with the
// same value: a redelivery after a hub restart stores nothing twice.
// Samples are kept raw only for a short window (the hub prunes them with
// PruneHosts to fleet.hub_raw): the raw history stays on the agent. Every
// sample is also folded into the host's minute and hour tiers (see
// hosts_tiers.go), which keep the history at the hub.

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

var (
	bFleet        = []byte("fleet")
	bHostInfo     = []byte("info")
	bHostSeries   = []byte("series")
	bHostSamples  = []byte("samples")
	bHostResults  = []byte("results")
	bHostEvents   = []byte("events")
	hostSubBucket = [][]byte{bHostSeries, bHostSamples, bHostResults, bHostEvents, bHostM1, bHostH1}
)

// MaxHostSeries bounds the series names one host may bring: points of
// further series are dropped (an agent cannot grow the hub's dictionary
// without bound).
const MaxHostSeries = 4096

// HostInfo is what the hub knows of one host of the fleet.
type HostInfo struct {
	Name    string            `json:"name"`
	OS      string            `json:"os,omitempty"`
	Kernel  string            `json:"kernel,omitempty"`
	Version string            `json:"version,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Interval is the host's sample interval, as its hello said.
	Interval time.Duration `json:"interval_ns,omitempty"`
	// FirstSeen and LastSeen are when the hub first and last heard from
	// the host (its arrival times, not the samples' own).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// UnreachableSince is set while the host is unreachable.
	UnreachableSince time.Time `json:"unreachable_since,omitzero"`
}

// HostSample, HostResult and HostEvent tie a record to its host.
type (
	HostSample struct {
		Host   string
		Sample model.Sample
	}
	HostResult struct {
		Host   string
		Result model.Result
	}
	HostEvent struct {
		Host  string
		Event model.Event
	}
)

// HostBatch is what one ingest transaction writes: the records of a batch
// of messages, the hellos among them (their FirstSeen and LastSeen are
// ignored: the store keeps those), and when each host was heard from.
type HostBatch struct {
	Hellos  []HostInfo
	Samples []HostSample
	Results []HostResult
	Events  []HostEvent
	Seen    map[string]time.Time
}

// Len counts the records of the batch.
func (b *HostBatch) Len() int {
	return len(b.Hellos) + len(b.Samples) + len(b.Results) + len(b.Events) + len(b.Seen)
}

// hostBucket returns the bucket of host (nil when absent) in a read
// transaction.
func hostBucket(tx *bolt.Tx, host string) *bolt.Bucket {
	f := tx.Bucket(bFleet)
	if f == nil {
		return nil
	}
	return f.Bucket([]byte(host))
}

// Hosts lists every host the hub has heard from, by name.
func (db *DB) Hosts() ([]HostInfo, error) {
	var out []HostInfo
	err := db.view(func(tx *bolt.Tx) error {
		f := tx.Bucket(bFleet)
		if f == nil {
			return nil
		}
		return f.ForEachBucket(func(name []byte) error {
			h, err := readHostInfo(f.Bucket(name), string(name))
			if err != nil {
				db.log.Warn("skipping a host record that cannot be decoded", "host", string(name), "err", err)
				return nil
			}
			out = append(out, h)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: hosts: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readHostInfo(b *bolt.Bucket, name string) (HostInfo, error) {
	h := HostInfo{Name: name}
	if v := b.Get(bHostInfo); v != nil {
		if err := json.Unmarshal(v, &h); err != nil {
			return HostInfo{}, fmt.Errorf("%w: host %s info: %v", ErrCorrupt, name, err)
		}
		h.Name = name
	}
	return h, nil
}

// HostSamples returns up to limit samples of host with from <= time < to,
// oldest first.
func (db *DB) HostSamples(host string, from, to time.Time, limit int) ([]model.Sample, error) {
	var out []model.Sample
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		names := map[uint32]string{}
		if err := hb.Bucket(bHostSeries).ForEach(func(k, v []byte) error {
			if len(v) == 4 {
				names[binary.BigEndian.Uint32(v)] = string(k)
			}
			return nil
		}); err != nil {
			return err
		}
		c := hb.Bucket(bHostSamples).Cursor()
		end := to.UnixMilli()
		for k, v := c.Seek(timeKey(from.UnixMilli())); k != nil && len(out) < limit; k, v = c.Next() {
			ms := getTime(k)
			if ms >= end {
				break
			}
			pts, err := decodeHostPoints(v, names)
			if err != nil {
				return fmt.Errorf("host %s sample at %d: %w", host, ms, err)
			}
			out = append(out, model.Sample{Time: msTime(ms), Points: pts})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host samples: %w", err)
	}
	return out, nil
}

// HostResults returns up to limit check results of host with from <=
// time < to, oldest first.
func (db *DB) HostResults(host string, from, to time.Time, limit int) ([]model.Result, error) {
	var out []model.Result
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		c := hb.Bucket(bHostResults).Cursor()
		end := to.UnixMilli()
		for k, v := c.Seek(timeKey(from.UnixMilli())); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) < 8 || getTime(k) >= end {
				break
			}
			var r model.Result
			if err := json.Unmarshal(v, &r); err != nil {
				db.log.Warn("skipping a host result that cannot be decoded", "host", host, "err", err)
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host results: %w", err)
	}
	return out, nil
}

// HostEvents returns the newest limit events of host, oldest first.
func (db *DB) HostEvents(host string, limit int) ([]model.Event, error) {
	var out []model.Event
	err := db.view(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return nil
		}
		c := hb.Bucket(bHostEvents).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e model.Event
			if err := json.Unmarshal(v, &e); err != nil {
				db.log.Warn("skipping a host event that cannot be decoded", "host", host, "err", err)
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: host events: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// decodeHostPoints decodes a stored sample's points.
func decodeHostPoints(v []byte, names map[uint32]string) ([]model.Point, error) {
	r := reader{b: v}
	n := r.uvarint()
	if r.err != nil || n > MaxHostSeries {
		return nil, fmt.Errorf("%w: point count", ErrCorrupt)
	}
	pts := make([]model.Point, 0, n)
	for range n {
		idw := r.uvarint()
		var val float64
		if idw&1 == 1 {
			val = math.Float64frombits(r.u64())
		} else {
			b := r.bytes(4)
			if r.err == nil {
				val = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
		}
		if name, ok := names[uint32(idw>>1)]; ok {
			pts = append(pts, model.Point{Series: name, Value: val})
		}
	}
	return pts, nil
}
