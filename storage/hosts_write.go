package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// IngestHosts writes a batch of the fleet's records in one transaction
// (fsynced before it returns): a hub acknowledges the messages only after
// it returns nil, so a failed commit loses nothing (they are delivered
// again). It bypasses the local writer's queue: the fleet buckets are
// written by the hub's single ingest goroutine and bbolt serialises it
// with the local writer's commits. Hosts are created on first sight.
func (db *DB) IngestHosts(b HostBatch) error {
	if b.Len() == 0 {
		return nil
	}
	err := db.update(func(tx *bolt.Tx) error {
		f, err := tx.CreateBucketIfNotExists(bFleet)
		if err != nil {
			return err
		}
		hosts := map[string]*hostTx{}
		host := func(name string) (*hostTx, error) {
			if h, ok := hosts[name]; ok {
				return h, nil
			}
			h, err := openHostTx(f, name)
			if err != nil {
				return nil, fmt.Errorf("host %q: %w", name, err)
			}
			hosts[name] = h
			return h, nil
		}
		for _, hello := range b.Hellos {
			h, err := host(hello.Name)
			if err != nil {
				return err
			}
			first, last, since := h.info.FirstSeen, h.info.LastSeen, h.info.UnreachableSince
			h.info = hello
			h.info.FirstSeen, h.info.LastSeen, h.info.UnreachableSince = first, last, since
			h.dirty = true
		}
		for _, s := range b.Samples {
			h, err := host(s.Host)
			if err != nil {
				return err
			}
			if err := h.putSample(s); err != nil {
				return err
			}
		}
		for _, r := range b.Results {
			h, err := host(r.Host)
			if err != nil {
				return err
			}
			v, err := json.Marshal(r.Result)
			if err != nil {
				return err
			}
			k := append(timeKey(r.Result.Time.UnixMilli()), r.Result.Check...)
			if err := h.b.Bucket(bHostResults).Put(k, v); err != nil {
				return err
			}
		}
		for _, e := range b.Events {
			h, err := host(e.Host)
			if err != nil {
				return err
			}
			v, err := json.Marshal(e.Event)
			if err != nil {
				return err
			}
			k := append(timeKey(e.Event.Time.UnixMilli()), u64Key(e.Event.ID)...)
			if err := h.b.Bucket(bHostEvents).Put(k, v); err != nil {
				return err
			}
		}
		for name, t := range b.Seen {
			h, err := host(name)
			if err != nil {
				return err
			}
			if h.info.FirstSeen.IsZero() {
				h.info.FirstSeen = t
			}
			if t.After(h.info.LastSeen) {
				h.info.LastSeen = t
			}
			h.dirty = true
		}
		for _, h := range hosts {
			if err := h.flush(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: ingest %d fleet records: %w", b.Len(), err)
	}
	return nil
}

// SetHostUnreachable records that host became unreachable at since, or
// reachable again (since zero).
func (db *DB) SetHostUnreachable(host string, since time.Time) error {
	err := db.update(func(tx *bolt.Tx) error {
		hb := hostBucket(tx, host)
		if hb == nil {
			return fmt.Errorf("no host %q", host)
		}
		h, err := readHostInfo(hb, host)
		if err != nil {
			return err
		}
		h.UnreachableSince = since
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		return hb.Put(bHostInfo, v)
	})
	if err != nil {
		return fmt.Errorf("storage: host %s state: %w", host, err)
	}
	return nil
}

// PruneHosts deletes every host's samples older than samples, results
// older than results and events older than events, in transactions of at
// most 5000 keys; it returns how many it deleted.
func (db *DB) PruneHosts(samples, results, events time.Time) (int, error) {
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
				}{{bHostSamples, samples}, {bHostResults, results}, {bHostEvents, events}} {
					b := hb.Bucket(p.bucket)
					if b == nil {
						continue
					}
					cut := timeKey(p.before.UnixMilli())
					// Seek again after each Delete: bbolt's cursor skips
					// keys after a Delete on a page changed in this
					// transaction.
					c := b.Cursor()
					for k, _ := c.First(); k != nil && n < 5000 && len(k) >= 8 && bytes.Compare(k[:8], cut) < 0; {
						next := append([]byte(nil), k...)
						if err := c.Delete(); err != nil {
							return err
						}
						n++
						k, _ = c.Seek(next)
					}
				}
				return nil
			})
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("storage: prune fleet hosts: %w", err)
		}
		if n < 5000 {
			return total, nil
		}
	}
}

// hostTx is one host's buckets within an ingest transaction.
type hostTx struct {
	b       *bolt.Bucket
	info    HostInfo
	dirty   bool
	series  map[string]uint32
	nSeries int    // -1 until counted
	hw      *int64 // newest sample folded into the tiers; nil until read
}

func openHostTx(f *bolt.Bucket, name string) (*hostTx, error) {
	if name == "" || len(name) > 63 {
		return nil, errors.New("bad host name")
	}
	b, err := f.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, err
	}
	for _, sub := range hostSubBucket {
		if _, err := b.CreateBucketIfNotExists(sub); err != nil {
			return nil, err
		}
	}
	info, err := readHostInfo(b, name)
	if err != nil {
		// A damaged record is replaced rather than blocking the host.
		info = HostInfo{Name: name}
	}
	return &hostTx{b: b, info: info, series: map[string]uint32{}, nSeries: -1}, nil
}

// seriesID returns the id of a series name, creating it; ok is false when
// the host has MaxHostSeries already.
func (h *hostTx) seriesID(name string) (uint32, bool, error) {
	if id, ok := h.series[name]; ok {
		return id, true, nil
	}
	sb := h.b.Bucket(bHostSeries)
	if v := sb.Get([]byte(name)); len(v) == 4 {
		id := binary.BigEndian.Uint32(v)
		h.series[name] = id
		return id, true, nil
	}
	if h.nSeries < 0 {
		h.nSeries = sb.Stats().KeyN
	}
	if h.nSeries >= MaxHostSeries {
		return 0, false, nil
	}
	seq, err := sb.NextSequence()
	if err != nil {
		return 0, false, err
	}
	id := uint32(seq)
	if err := sb.Put([]byte(name), u32Key(id)); err != nil {
		return 0, false, err
	}
	h.nSeries++
	h.series[name] = id
	return id, true, nil
}

func (h *hostTx) putSample(s HostSample) error {
	buf := make([]byte, 0, 8+len(s.Sample.Points)*7)
	n := 0
	body := make([]byte, 0, len(s.Sample.Points)*7)
	var fold foldPoints
	for _, p := range s.Sample.Points {
		id, ok, err := h.seriesID(p.Series)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			fold.add(id, p)
		}
		if f := float32(p.Value); float64(f) == p.Value || math.IsNaN(p.Value) {
			body = binary.AppendUvarint(body, uint64(id)<<1)
			body = binary.BigEndian.AppendUint32(body, math.Float32bits(f))
		} else {
			body = binary.AppendUvarint(body, uint64(id)<<1|1)
			body = binary.BigEndian.AppendUint64(body, math.Float64bits(p.Value))
		}
		n++
	}
	buf = binary.AppendUvarint(buf, uint64(n))
	buf = append(buf, body...)
	b := h.b.Bucket(bHostSamples)
	b.FillPercent = 0.95 // append-only by time
	t := s.Sample.Time.UnixMilli()
	if err := b.Put(timeKey(t), buf); err != nil {
		return err
	}
	return h.foldSample(t, fold.ids, fold.vals)
}

func (h *hostTx) flush() error {
	if !h.dirty {
		return nil
	}
	v, err := json.Marshal(h.info)
	if err != nil {
		return err
	}
	return h.b.Put(bHostInfo, v)
}
