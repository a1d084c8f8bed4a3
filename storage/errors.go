package storage

import "errors"

// Sentinel errors. Callers test for them with errors.Is; the errors actually
// returned wrap them with the file name and the detail.
var (
	// ErrLocked is returned by Open when another process (usually another
	// dashd) holds the lock on the database file and it was not released
	// within Options.Timeout.
	ErrLocked = errors.New("database file is locked by another process")

	// ErrNewerSchema is returned by Open when the file was written by a newer
	// dashd whose schema this build does not know. The file is left untouched.
	ErrNewerSchema = errors.New("database schema is newer than this dashd supports")

	// ErrCorrupt is returned when the file is not a valid bbolt database or a
	// page or record inside it cannot be decoded. The file is never rewritten
	// or recreated when this is returned.
	ErrCorrupt = errors.New("database file is corrupt")

	// ErrNotDashd is returned by Open when the file is a valid bbolt database
	// that was not written by dashd (it has no schema record but has data).
	ErrNotDashd = errors.New("not a dashd database")

	// ErrClosed is returned by writes and by Run after Close was called.
	ErrClosed = errors.New("database closed")

	// ErrQueueFull is returned by the asynchronous writes when the writer
	// queue is full (the writer is stalled or Run was never started); the
	// record is dropped.
	ErrQueueFull = errors.New("write queue full")

	// ErrInvalid is returned when a record misses a required field, a
	// name is too long to be a key, or a field or an alert change is
	// beyond its bound (see the package doc, # Outbox).
	ErrInvalid = errors.New("invalid record")

	// ErrRunning is returned by Run when the writer is already running.
	ErrRunning = errors.New("writer already running")

	// ErrWriteFailed is returned by the synchronous writes (AddChat,
	// MarkNotificationsRead, Flush, MarkOutbox, AddSilence, ExpireSilence,
	// PutSession, UpdateSessions, DeleteSessions, and AddEvent, AddEventWith, AddAlertChange or AddNotification when
	// their record cannot be held) when the commit failed: the disk is
	// full, read-only or failing. The record was not stored; the error
	// also wraps the cause (e.g. syscall.ENOSPC). WriteHealth reports the
	// outage while it lasts.
	ErrWriteFailed = errors.New("write failed")

	// ErrHeld is returned by AddEvent, AddEventWith, AddAlertChange and
	// AddNotification when the commit failed but the record is kept in
	// memory and written, with an ID, by the first commit that succeeds
	// (unless the process ends first). The returned records have ID 0 (an
	// event and its outbox items are held and written together). The
	// error also wraps the cause. Callers must not write the record
	// again: it would be stored twice.
	ErrHeld = errors.New("held in memory until the disk accepts writes")

	// ErrNotFound is returned when a write names a record that does not
	// exist (ExpireSilence with an unknown id, or one retention removed).
	ErrNotFound = errors.New("no such record")
)
