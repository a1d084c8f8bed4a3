package storage

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// Incident buckets (see the package doc, # Buckets).
var (
	bIncidents       = []byte("incidents")
	bIncidentsOpen   = []byte("incidents_open")
	bIncidentEntries = []byte("incident_entries")
)

// Bounds on incidents. An incident gathers what fails together, and its
// entries carry what people write, so every list and text has one.
const (
	// maxIncidentNames bounds the checks, rules and failing names of one
	// incident (far above the checks one dashd runs).
	maxIncidentNames = 4096
	// maxIncidentEntries bounds the entries of one write.
	maxIncidentEntries = 1024
	// maxEntryKind bounds an entry's kind (a word).
	maxEntryKind = 64
	// Read limits: the default and the most one call returns.
	defaultIncidents     = 50
	maxIncidentsRead     = 1000
	defaultEntries       = 200
	maxEntriesRead       = 5000
	maxIncidentsOfResult = 10000
)

// incidentReq is what an incident write carries. apply fills in the IDs
// and sequence numbers it assigned; the writer reads them after the
// answer (the reply's channel orders the two).
type incidentReq struct {
	// create: a new incident (inc without ID); write: replace the stored
	// incident inc.ID with inc; neither: only add entries to inc.ID.
	create, write bool
	inc           model.Incident
	entries       []model.IncidentEntry
}

// CreateIncident stores a new incident (its ID from the bucket's
// sequence) and its first entries in one transaction, and returns them
// with their ID and sequence numbers once committed (fsynced). Incident
// writes are not held: on a failed commit the error wraps ErrWriteFailed
// and nothing was stored. An incident or entry beyond its bounds gives
// ErrInvalid.
func (db *DB) CreateIncident(ctx context.Context, inc model.Incident, entries ...model.IncidentEntry) (model.Incident, []model.IncidentEntry, error) {
	inc.ID = 0
	return db.incidentWrite(ctx, "create incident", &incidentReq{create: true, write: true, inc: inc, entries: entries})
}

// UpdateIncident replaces the stored incident inc.ID with inc and adds
// entries to its timeline, in one transaction: the state of an incident
// never changes without the entry that says why. It returns the incident
// as stored (Entries counted, Updated moved to the newest entry) and the
// entries with their sequence numbers once committed. An incident that is
// not stored (never, or retention removed it) gives ErrNotFound.
func (db *DB) UpdateIncident(ctx context.Context, inc model.Incident, entries ...model.IncidentEntry) (model.Incident, []model.IncidentEntry, error) {
	return db.incidentWrite(ctx, "update incident", &incidentReq{write: true, inc: inc, entries: entries})
}

// AddIncidentEntries adds entries to the timeline of incident id without
// changing anything else about it (its Updated time moves), and returns
// them with their sequence numbers once committed. Sequence numbers
// increase by one per entry, per incident. An unknown incident gives
// ErrNotFound.
func (db *DB) AddIncidentEntries(ctx context.Context, id uint64, entries ...model.IncidentEntry) ([]model.IncidentEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	_, out, err := db.incidentWrite(ctx, "add incident entries", &incidentReq{inc: model.Incident{ID: id}, entries: entries})
	return out, err
}

// incidentWrite checks and queues one incident write and waits for it.
func (db *DB) incidentWrite(ctx context.Context, op string, r *incidentReq) (model.Incident, []model.IncidentEntry, error) {
	if !r.create && r.inc.ID == 0 {
		return r.inc, nil, fmt.Errorf("storage: %s: %w: no incident ID", op, ErrInvalid)
	}
	if r.write {
		if p := incidentProblem(r.inc); p != "" {
			return r.inc, nil, fmt.Errorf("storage: %s: %w: %s", op, ErrInvalid, p)
		}
		r.inc.Checks, r.inc.Rules, r.inc.Failing = slices.Clone(r.inc.Checks), slices.Clone(r.inc.Rules), slices.Clone(r.inc.Failing)
	}
	if len(r.entries) > maxIncidentEntries {
		return r.inc, nil, fmt.Errorf("storage: %s: %w: %d entries, at most %d", op, ErrInvalid, len(r.entries), maxIncidentEntries)
	}
	r.entries = slices.Clone(r.entries)
	now := db.now()
	for i := range r.entries {
		if r.entries[i].Time.IsZero() {
			r.entries[i].Time = now
		}
		if p := entryProblem(r.entries[i]); p != "" {
			return r.inc, nil, fmt.Errorf("storage: %s: %w: entry %d: %s", op, ErrInvalid, i, p)
		}
	}
	// On an error r is not read again: a request whose waiter gave up
	// (ctx) may still be applied, by the writer, which sets r.inc then.
	asked := r.inc
	if _, err := db.sync(ctx, request{kind: reqIncident, incident: r}); err != nil {
		return asked, nil, fmt.Errorf("storage: %s: %w", op, err)
	}
	return r.inc, r.entries, nil
}

// incidentProblem says what is wrong with an incident to store ("" if
// nothing).
func incidentProblem(i model.Incident) string {
	size := len(i.Title) + len(i.AckedBy) + len(i.ResolvedBy)
	for _, list := range [][]string{i.Checks, i.Rules, i.Failing} {
		if len(list) > maxIncidentNames {
			return fmt.Sprintf("%d names in a list, at most %d", len(list), maxIncidentNames)
		}
		for _, n := range list {
			if n == "" || len(n) > maxNameLen {
				return "empty or too long check or rule name"
			}
			size += len(n)
		}
	}
	switch {
	case i.State != model.IncidentOpen && i.State != model.IncidentResolved:
		return fmt.Sprintf("state %q", i.State)
	case i.Title == "" || len(i.Title) > maxNameLen:
		return "empty or too long title"
	case len(i.AckedBy) > maxNameLen || len(i.ResolvedBy) > maxNameLen:
		return "too long a user name"
	case len(i.Summary) > maxTextLen || size > maxHeldBytes:
		return "too long a summary, or too much altogether"
	case i.Started.IsZero():
		return "no start"
	case !nsOK(i.Started) || !nsOK(i.Updated) || !nsOK(i.Acked) || !nsOK(i.Resolved):
		return fmt.Sprintf("time out of range (years %d-%d)", nsMinYear, nsMaxYear)
	}
	return ""
}

// entryProblem says what is wrong with an entry to store ("" if nothing).
func entryProblem(e model.IncidentEntry) string {
	switch {
	case e.Kind == "" || len(e.Kind) > maxEntryKind:
		return "empty or too long kind"
	case len(e.Check) > maxNameLen || len(e.Rule) > maxNameLen || len(e.User) > maxNameLen || len(e.Address) > maxNameLen ||
		len(e.Origin) > maxNameLen || len(e.Action) > maxNameLen:
		return "too long a name"
	case len(e.Text) > maxTextLen:
		return "text too long"
	case !nsOK(e.Time):
		return fmt.Sprintf("time out of range (years %d-%d)", nsMinYear, nsMaxYear)
	}
	return ""
}

// applyIncident writes one incident request inside tx and returns the
// incident's ID, or refuses (ErrNotFound) an update of an incident that
// is not stored without failing the transaction.
func applyIncident(tx *bolt.Tx, r *incidentReq) (id uint64, refused, err error) {
	ib, eb := tx.Bucket(bIncidents), tx.Bucket(bIncidentEntries)
	id = r.inc.ID
	var stored model.Incident
	storedOK := false
	if r.create {
		if id, err = ib.NextSequence(); err != nil {
			return 0, nil, err
		}
	} else {
		v := ib.Get(u64Key(id))
		if v == nil {
			return 0, fmt.Errorf("incident %d: %w", id, ErrNotFound), nil
		}
		stored, err = decodeIncident(id, v)
		storedOK = err == nil
		err = nil
	}
	// The newest sequence number is the last key of the incident's range:
	// the entries, not the record, are what numbers them.
	seq := uint64(0)
	c := eb.Cursor()
	if k, _ := c.Seek(entryKey(id+1, 0)); k == nil {
		k, _ = c.Last()
		seq = entrySeqOf(k, id)
	} else {
		k, _ = c.Prev()
		seq = entrySeqOf(k, id)
	}
	newest := time.Time{}
	for i := range r.entries {
		seq++
		e := &r.entries[i]
		e.Incident, e.Seq = id, seq
		if e.Time.After(newest) {
			newest = e.Time
		}
		if err := eb.Put(entryKey(id, seq), encodeEntry(*e)); err != nil {
			return 0, nil, err
		}
	}
	inc := r.inc
	switch {
	case r.write:
	case storedOK:
		inc = stored // only entries: the record stays as it is
	default:
		// A record that no longer decodes keeps its entries; it is not
		// rewritten from nothing.
		return id, nil, nil
	}
	inc.ID, inc.Entries = id, seq
	if newest.After(inc.Updated) {
		inc.Updated = newest
	}
	if storedOK && stored.Updated.After(inc.Updated) {
		inc.Updated = stored.Updated
	}
	if err := ib.Put(u64Key(id), encodeIncident(inc)); err != nil {
		return 0, nil, err
	}
	ob := tx.Bucket(bIncidentsOpen)
	if inc.IsOpen() {
		err = ob.Put(u64Key(id), []byte{})
	} else {
		err = ob.Delete(u64Key(id))
	}
	if err != nil {
		return 0, nil, err
	}
	r.inc = inc
	return id, nil, nil
}

// Incident returns the incident with id; ok is false when there is none.
// One that cannot be decoded is logged and reported as missing.
func (db *DB) Incident(id uint64) (inc model.Incident, ok bool, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bIncidents).Get(u64Key(id))
		if v == nil {
			return nil
		}
		inc, ok = db.incident(id, v)
		return nil
	})
	if err != nil {
		return model.Incident{}, false, fmt.Errorf("storage: incident %d: %w", id, err)
	}
	return inc, ok, nil
}

// incident decodes a stored incident, logging and skipping a damaged one.
func (db *DB) incident(id uint64, v []byte) (model.Incident, bool) {
	inc, err := decodeIncident(id, v)
	if err != nil {
		db.log.Error("storage: corrupt incident skipped", "incident", id, "err", err)
		return inc, false
	}
	return inc, true
}

// Incidents returns up to limit (<= 0: 50; at most 1000) incidents with an
// ID below before (0: from the newest), newest first: open and resolved
// alike. The last one's ID is the cursor of the next page.
func (db *DB) Incidents(before uint64, limit int) ([]model.Incident, error) {
	limit = clampLimit(limit, defaultIncidents, maxIncidentsRead)
	var out []model.Incident
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bIncidents).Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else {
			c.Seek(u64Key(before))
			k, v = c.Prev()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			if inc, ok := db.incident(beUint64(k), v); ok {
				out = append(out, inc)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: incidents: %w", err)
	}
	return out, nil
}

// OpenIncidents returns every open incident, newest first. It reads an
// index of the open ones, never the resolved.
func (db *DB) OpenIncidents() ([]model.Incident, error) {
	var out []model.Incident
	err := db.view(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bIncidents)
		c := tx.Bucket(bIncidentsOpen).Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if v := ib.Get(k); v != nil {
				if inc, ok := db.incident(beUint64(k), v); ok && inc.IsOpen() {
					out = append(out, inc)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: open incidents: %w", err)
	}
	return out, nil
}

// IncidentEntries returns up to limit (<= 0: 200; at most 5000) entries
// of incident id with a sequence number above after, oldest first: the
// last one's Seq is the cursor of the next page. An entry that cannot be
// decoded is logged and skipped.
func (db *DB) IncidentEntries(id, after uint64, limit int) ([]model.IncidentEntry, error) {
	limit = clampLimit(limit, defaultEntries, maxEntriesRead)
	var out []model.IncidentEntry
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bIncidentEntries).Cursor()
		for k, v := c.Seek(entryKey(id, after+1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 16 || beUint64(k) != id {
				break
			}
			e, err := decodeEntry(id, beUint64(k[8:]), v)
			if err != nil {
				db.log.Error("storage: corrupt incident entry skipped", "err", err)
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: entries of incident %d: %w", id, err)
	}
	return out, nil
}

// IncidentsOf returns up to limit (<= 0 or above 10000: 10000) incidents
// that involved check and started at or after since, newest first: what
// its time to acknowledge and to resolve are figured from. It reads back
// from the newest incident until one started before since.
func (db *DB) IncidentsOf(check string, since time.Time, limit int) ([]model.Incident, error) {
	limit = clampLimit(limit, maxIncidentsOfResult, maxIncidentsOfResult)
	var out []model.Incident
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bIncidents).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			inc, ok := db.incident(beUint64(k), v)
			if !ok {
				continue
			}
			if inc.Started.Before(since) {
				break
			}
			if slices.Contains(inc.Checks, check) {
				out = append(out, inc)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: incidents of %q: %w", check, err)
	}
	return out, nil
}

// entrySeqOf is the sequence number of the entry key k if it belongs to
// incident id, else 0.
func entrySeqOf(k []byte, id uint64) uint64 {
	if len(k) != 16 || beUint64(k) != id {
		return 0
	}
	return beUint64(k[8:])
}

func clampLimit(limit, def, most int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, most)
}

// deleteOldIncidents deletes resolved incidents that resolved before
// cutoff (ms), with their entries; open ones never go. Incidents are
// created in time order, so the scan stops at the first one that started
// after the cutoff. Entries go first, the record last, so a pass the
// budget cuts short resumes where it stopped.
func deleteOldIncidents(tx *bolt.Tx, cutoff int64, left *int) (bool, error) {
	ib, eb := tx.Bucket(bIncidents), tx.Bucket(bIncidentEntries)
	var old [][]byte
	c := ib.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		inc, err := decodeIncident(beUint64(k), v)
		if err != nil {
			continue // kept: nothing says how old it is
		}
		if inc.Started.UnixMilli() >= cutoff {
			break
		}
		if !inc.IsOpen() && inc.Resolved.UnixMilli() < cutoff {
			old = append(old, bytes.Clone(k))
		}
	}
	for _, k := range old {
		more, err := deleteIncidentEntries(eb, beUint64(k), left)
		if err != nil || more {
			return more, err
		}
		if *left <= 0 {
			return true, nil
		}
		if err := ib.Delete(k); err != nil {
			return false, err
		}
		*left--
	}
	return false, nil
}

// deleteIncidentEntries deletes the entries of incident id, at most *left
// of them, and reports whether some are left.
func deleteIncidentEntries(b *bolt.Bucket, id uint64, left *int) (bool, error) {
	c := b.Cursor()
	for k, _ := c.Seek(entryKey(id, 0)); entrySeqOf(k, id) != 0; {
		if *left <= 0 {
			return true, nil
		}
		k = bytes.Clone(k)
		if err := c.Delete(); err != nil {
			return false, err
		}
		*left--
		// Seek again after a Delete (see deleteWhile: bbolt's Next skips).
		k, _ = c.Seek(k)
	}
	return false, nil
}
