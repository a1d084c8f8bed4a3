package fleet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Spool keeps an agent's messages while NATS is unreachable: one bbolt
// file of its own (never the history file), one bucket of messages keyed
// by an 8-byte big-endian sequence, so key order is the order they were
// made. It holds at most its budget in bytes (key, subject, id and data
// of each message): appending past it deletes the oldest first and counts
// them (Dropped, kept in the file). It is used by one goroutine (the
// Publisher's); the counters may be read from any.
type Spool struct {
	db  *bolt.DB
	max int64

	mu      sync.Mutex
	bytes   int64
	n       int
	dropped uint64
}

var (
	bSpool     = []byte("spool")
	bSpoolMeta = []byte("meta")
	kDropped   = []byte("dropped")
)

// Spooled is a message in the spool with its key.
type Spooled struct {
	Seq uint64
	Message
}

// OpenSpool opens (or creates) the spool at path with a budget of
// maxBytes. It fails at once (after 1 s) when another process holds the
// file: usually another agent with the same data directory.
func OpenSpool(path string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		return nil, errors.New("fleet: spool budget must be positive")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("fleet: spool %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("fleet: open spool %s (another dashd agent may hold it): %w", path, err)
	}
	s := &Spool{db: db, max: maxBytes}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bSpool)
		if err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bSpoolMeta)
		if err != nil {
			return err
		}
		if v := m.Get(kDropped); len(v) == 8 {
			s.dropped = binary.BigEndian.Uint64(v)
		}
		return b.ForEach(func(k, v []byte) error {
			s.n++
			s.bytes += int64(len(k) + len(v))
			return nil
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("fleet: open spool %s: %w", path, err)
	}
	return s, nil
}

func encodeSpooled(m Message) []byte {
	b := make([]byte, 0, 4+len(m.Subject)+len(m.ID)+len(m.Data))
	b = binary.AppendUvarint(b, uint64(len(m.Subject)))
	b = append(b, m.Subject...)
	b = binary.AppendUvarint(b, uint64(len(m.ID)))
	b = append(b, m.ID...)
	return append(b, m.Data...)
}

func decodeSpooled(v []byte) (Message, error) {
	var m Message
	for _, dst := range []*string{&m.Subject, &m.ID} {
		l, n := binary.Uvarint(v)
		if n <= 0 || l > uint64(len(v)-n) {
			return m, errors.New("fleet: spool record damaged")
		}
		*dst = string(v[n : n+int(l)])
		v = v[n+int(l):]
	}
	m.Data = append([]byte(nil), v...)
	return m, nil
}

// Append adds msgs at the end in one transaction, then deletes the oldest
// messages while the spool is over its budget (a message larger than the
// whole budget is dropped at once).
func (s *Spool) Append(msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bytes, n, dropped := s.bytes, s.n, s.dropped
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSpool)
		b.FillPercent = 0.95
		for _, m := range msgs {
			v := encodeSpooled(m)
			if int64(len(v)+8) > s.max {
				dropped++
				continue
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			k := binary.BigEndian.AppendUint64(nil, seq)
			if err := b.Put(k, v); err != nil {
				return err
			}
			bytes += int64(len(k) + len(v))
			n++
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil && bytes > s.max; k, v = c.Seek(k) {
			bytes -= int64(len(k) + len(v))
			n--
			dropped++
			k = append([]byte(nil), k...)
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if dropped != s.dropped {
			return tx.Bucket(bSpoolMeta).Put(kDropped, binary.BigEndian.AppendUint64(nil, dropped))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fleet: spool %d messages: %w", len(msgs), err)
	}
	s.bytes, s.n, s.dropped = bytes, n, dropped
	return nil
}

// Peek returns up to n of the oldest messages, oldest first.
func (s *Spool) Peek(n int) ([]Spooled, error) {
	var out []Spooled
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bSpool).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			m, err := decodeSpooled(v)
			if err != nil {
				return err
			}
			out = append(out, Spooled{Seq: binary.BigEndian.Uint64(k), Message: m})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: read spool: %w", err)
	}
	return out, nil
}

// Remove deletes every message up to and including seq (they were
// published).
func (s *Spool) Remove(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	bytes, n := s.bytes, s.n
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bSpool).Cursor()
		for k, v := c.First(); k != nil && binary.BigEndian.Uint64(k) <= seq; k, v = c.Seek(k) {
			bytes -= int64(len(k) + len(v))
			n--
			k = append([]byte(nil), k...)
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fleet: remove published messages from the spool: %w", err)
	}
	s.bytes, s.n = bytes, n
	return nil
}

// Len is the number of messages waiting.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Bytes is what the waiting messages take against the budget.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Dropped counts the messages deleted unsent because the spool was full,
// since the file was created.
func (s *Spool) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close closes the file; what it holds is drained by the next agent.
func (s *Spool) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("fleet: close spool: %w", err)
	}
	return nil
}
