package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this build writes and reads. A file
// with a higher version is refused with ErrNewerSchema; an older one is
// migrated by Open (see the package doc, # Versions).
const SchemaVersion = 2

// Root bucket names (see the package doc).
var (
	bMeta          = []byte("meta")
	bSeries        = []byte("series")
	bHeads         = []byte("heads")
	bRaw           = []byte("raw")
	bMinute        = []byte("m1")
	bHour          = []byte("h1")
	bResults       = []byte("results")
	bUptime        = []byte("uptime")
	bEvents        = []byte("events")
	bNotifications = []byte("notifications")
	bReads         = []byte("reads")
	bChat          = []byte("chat")
	bLog           = []byte("log")
	bOutbox        = []byte("outbox")
	bOutboxDone    = []byte("outbox_done")
	bOutboxStats   = []byte("outbox_stats")
	bAlerts        = []byte("alerts")
	bSilences      = []byte("silences")
	bSessions      = []byte("sessions")

	bUptimeHourly = []byte("h")
	bUptimeDaily  = []byte("d")

	kSchema = []byte("schema")

	rootBuckets = [][]byte{bMeta, bSeries, bHeads, bRaw, bMinute, bHour, bResults,
		bUptime, bEvents, bNotifications, bReads, bChat, bLog,
		bOutbox, bOutboxDone, bOutboxStats, bAlerts, bSilences, bSessions,
		bIncidents, bIncidentsOpen, bIncidentEntries}
)

// DB is dashd's history store. Reads are safe from any goroutine at any
// time; writes go through a queue drained by Run (one writer goroutine, one
// transaction per tick).
type DB struct {
	path string
	bolt *bolt.DB
	opts Options
	log  *slog.Logger
	now  func() time.Time

	// reqs holds pointers: a buffer of QueueSize whole requests (432 bytes
	// each) would be 1.8 MB of memory the GC scans every cycle.
	reqs chan *request

	// enqMu guards closed: enqueuers hold it shared while they send so
	// Close, which takes it exclusively, knows nothing is still on its way
	// into the queue once it has set closed.
	enqMu  sync.RWMutex
	closed bool

	// runMu guards the writer's lifecycle fields.
	runMu    sync.Mutex
	running  bool
	stopping bool
	quit     chan struct{}
	runDone  chan struct{}

	// w and held are owned by whichever goroutine drains the queue: Run
	// while it runs, Close after Run returned (or if it never started).
	w    *writer
	held heldQueue

	// health is written by the owner of w and read from any goroutine.
	health *healthTracker

	// waitingResults counts results queued and not yet through a commit
	// (stored, held or dropped): a read of results commits them first
	// (see catchUp).
	waitingResults atomic.Int64
}

// Open opens (or creates) the database at path with the given options,
// creating the parent directory. It fails fast with ErrLocked if another
// process holds the file, ErrNewerSchema if a newer dashd wrote it,
// ErrCorrupt / ErrNotDashd if it is not a usable dashd file; in every
// failure case the existing file is left exactly as it was.
func Open(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("storage: open %s: create directory: %w", path, err)
	}
	bopts := &bolt.Options{
		Timeout:         opts.Timeout,
		InitialMmapSize: opts.InitialMmapSize,
		FreelistType:    bolt.FreelistMapType,
		// The freelist is written with every commit (one page or so).
		// NoFreelistSync would save it, but Open would then walk every page
		// of the file to rebuild the list: ~80 ms and, for a 190 MB file,
		// 190 MB more VmRSS after start (BenchmarkBigFile), against a
		// 25 MB budget for the whole daemon.
	}
	bdb, err := openBolt(path, bopts)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("storage: open %s: %w: another dashd (or another process) holds the lock; waited %s", path, ErrLocked, opts.Timeout)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
			errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, ErrCorrupt):
			return nil, fmt.Errorf("storage: open %s: %w (%v); the file was left untouched: restore it from a backup or move it aside", path, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db := &DB{
		path:   path,
		bolt:   bdb,
		opts:   opts,
		log:    opts.Logger.With("db", path),
		now:    opts.Clock,
		reqs:   make(chan *request, opts.QueueSize),
		quit:   make(chan struct{}),
		health: newHealthTracker(),
	}
	db.w = newWriter(db)
	if err := db.initSchema(); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if err := db.view(db.w.load); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("storage: open %s: load series heads: %w", path, err)
	}
	return db, nil
}

// openBolt turns a bbolt panic on a mangled file into ErrCorrupt.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// initSchema creates the buckets of a new file or checks the schema record
// of an existing one.
func (db *DB) initSchema() error {
	// Look before writing: a refused file must not be touched at all.
	var version uint32
	var hasMeta, hasOther bool
	err := db.view(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bMeta); m != nil {
			hasMeta = true
			v := m.Get(kSchema)
			if len(v) != 4 {
				return fmt.Errorf("%w: schema record is %d bytes, want 4", ErrCorrupt, len(v))
			}
			version = binary.BigEndian.Uint32(v)
		}
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			hasOther = true
			return nil
		})
	})
	if err != nil {
		return err
	}
	switch {
	case !hasMeta && hasOther:
		return fmt.Errorf("%w: the file has buckets but no dashd schema record; point storage.path at another file", ErrNotDashd)
	case hasMeta && version > SchemaVersion:
		return fmt.Errorf("%w: the file has schema version %d, this dashd supports up to %d; upgrade dashd or point storage.path at another file", ErrNewerSchema, version, SchemaVersion)
	case hasMeta && version == 0:
		return fmt.Errorf("%w: schema version 0", ErrCorrupt)
	}
	return db.update(func(tx *bolt.Tx) error {
		// Version 1 -> 2 only adds the log bucket: a version 1 file has
		// every head up to date and the open window's raw chunks in place,
		// which is what version 2 has right after a fold with an empty log.
		// The alerting buckets (outbox, alerts, silences), sessions and
		// incidents came later within version 2: a file without them
		// simply has none of those records.
		for _, name := range rootBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if !hasMeta || version < SchemaVersion {
			if err := tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint32(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		return syncChatUsage(tx)
	})
}

// view runs fn in a read transaction, turning a bbolt panic on a corrupt
// page into ErrCorrupt instead of crashing the process.
func (db *DB) view(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return db.bolt.View(fn)
}

// update is view for write transactions (bbolt rolls back on the panic).
func (db *DB) update(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return db.bolt.Update(fn)
}

// Path returns the file name the database was opened with.
func (db *DB) Path() string { return db.path }

// Size returns the size of the database file in bytes. bbolt never shrinks
// the file: once retention applies, freed pages are reused and the size
// stays flat.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, fmt.Errorf("storage: size of %s: %w", db.path, err)
	}
	return fi.Size(), nil
}

// Close stops the writer, commits everything still queued (so a SIGTERM
// loses nothing that was accepted) and closes the file. It is safe whether
// or not Run was ever started, and safe to call twice.
func (db *DB) Close() error {
	db.enqMu.Lock()
	if db.closed {
		db.enqMu.Unlock()
		return nil
	}
	db.closed = true
	db.enqMu.Unlock()

	db.runMu.Lock()
	db.stopping = true
	running, done := db.running, db.runDone
	db.runMu.Unlock()
	if running {
		close(db.quit)
		<-done
	}
	// Run has returned (or never ran): this goroutine owns the writer now.
	cerr := db.commit(db.drain(nil))
	if n := len(db.held.reqs); n > 0 {
		// The last chance for them was that commit.
		var lost DropCounts
		for _, r := range db.held.reqs {
			lost.add(r.kind)
		}
		db.held.clear()
		db.health.lost(lost)
		db.log.Error("storage: records held in memory are lost: the disk still refuses writes at close", "records", n, "err", cerr)
	}
	if err := db.bolt.Close(); err != nil {
		return errors.Join(cerr, fmt.Errorf("storage: close %s: %w", db.path, err))
	}
	if cerr != nil {
		return fmt.Errorf("storage: close %s: final commit: %w", db.path, cerr)
	}
	return nil
}
