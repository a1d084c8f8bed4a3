package storage

import (
	"log/slog"
	"time"
)

// Retention says how long each kind of record is kept. A zero field means
// the default from DefaultOptions.
type Retention struct {
	Raw           time.Duration // raw samples (default 24h)
	Minute        time.Duration // per-minute rollups (default 30 days)
	Hour          time.Duration // per-hour rollups and daily uptime buckets (default 400 days)
	Results       time.Duration // check results and hourly uptime buckets (default 30 days)
	Events        time.Duration // events, finished outbox items and ended silences (default 90 days)
	Chat          time.Duration // chat messages (default 90 days)
	Notifications time.Duration // notifications and per-session read marks (default 90 days)
}

// Options configures Open. Zero fields take the value from DefaultOptions,
// so Options{} is valid.
type Options struct {
	Retention Retention

	// Timeout bounds the wait for the file lock held by another process.
	// Zero means the default (1 s); there is deliberately no "wait forever".
	Timeout time.Duration

	// Logger receives commit failures, dropped records and retention
	// progress. Nil means slog.Default().
	Logger *slog.Logger

	// Clock returns the current time; tests and simulations replace it.
	// It drives retention cutoffs, the default time of records without one,
	// and tier choice in Range. Sample and result times come from the records.
	Clock func() time.Time

	// RetentionInterval is how often Run starts a retention pass (the first
	// one starts as soon as Run does). Default 10 minutes.
	RetentionInterval time.Duration

	// FlushInterval bounds how long an asynchronous result or event waits
	// for the next sample's transaction before it is committed on its own.
	// Default 1 s.
	FlushInterval time.Duration

	// CommitInterval, when positive, makes samples wait like results:
	// every record without a waiter is committed together at the next
	// multiple of CommitInterval on the wall clock (the grid the sampler
	// ticks on), and a synchronous request commits whatever waits with it.
	// Zero (the default) commits each sample at once. See the package
	// doc, # Commit cadence.
	CommitInterval time.Duration

	// QueueSize is the capacity of the writer queue in records. Default 4096
	// (about an hour of 1 s ticks if the writer is stuck).
	QueueSize int

	// EnqueueTimeout bounds how long WriteResult and AppendEvent block on a
	// full queue before they drop the record with ErrQueueFull. Default 2 s.
	EnqueueTimeout time.Duration

	// InitialMmapSize is the initial memory map size in bytes; while the file
	// stays below it, readers never block the writer when the file grows.
	// Default 256 MiB (address space only, not memory).
	InitialMmapSize int

	// ChatMaxBytes is the storage budget for chat: when a message takes
	// the stored chat (keys and encoded messages, all rooms together)
	// above it, the oldest messages across all rooms are deleted in the
	// same transaction, down to 15/16 of the budget, and rooms left empty
	// disappear. Retention.Chat still applies as well. Chat is what
	// visitors can write, so without a budget a flood grows the file
	// without bound (bbolt files never shrink). Default 32 MiB; values
	// below 4 x 66 KiB (four of the largest messages) are raised to that.
	ChatMaxBytes int64
}

// DefaultOptions returns the defaults as a fresh value; changing it affects
// nobody else.
func DefaultOptions() Options {
	return Options{
		Retention: Retention{
			Raw:           24 * time.Hour,
			Minute:        30 * 24 * time.Hour,
			Hour:          400 * 24 * time.Hour,
			Results:       30 * 24 * time.Hour,
			Events:        90 * 24 * time.Hour,
			Chat:          90 * 24 * time.Hour,
			Notifications: 90 * 24 * time.Hour,
		},
		Timeout:           time.Second,
		Logger:            nil,
		Clock:             time.Now,
		RetentionInterval: 10 * time.Minute,
		FlushInterval:     time.Second,
		QueueSize:         4096,
		EnqueueTimeout:    2 * time.Second,
		InitialMmapSize:   256 << 20,
		ChatMaxBytes:      defaultChatMaxBytes,
	}
}

// withDefaults fills every zero (or negative) field from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	dur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	dur(&o.Retention.Raw, d.Retention.Raw)
	dur(&o.Retention.Minute, d.Retention.Minute)
	dur(&o.Retention.Hour, d.Retention.Hour)
	dur(&o.Retention.Results, d.Retention.Results)
	dur(&o.Retention.Events, d.Retention.Events)
	dur(&o.Retention.Chat, d.Retention.Chat)
	dur(&o.Retention.Notifications, d.Retention.Notifications)
	dur(&o.Timeout, d.Timeout)
	dur(&o.RetentionInterval, d.RetentionInterval)
	dur(&o.FlushInterval, d.FlushInterval)
	dur(&o.EnqueueTimeout, d.EnqueueTimeout)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = d.Clock
	}
	if o.QueueSize <= 0 {
		o.QueueSize = d.QueueSize
	}
	if o.InitialMmapSize <= 0 {
		o.InitialMmapSize = d.InitialMmapSize
	}
	if o.ChatMaxBytes <= 0 {
		o.ChatMaxBytes = d.ChatMaxBytes
	}
	o.ChatMaxBytes = max(o.ChatMaxBytes, minChatMaxBytes)
	return o
}
