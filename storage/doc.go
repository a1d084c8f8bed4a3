// Package storage keeps dashd's history in one bbolt file: metric series at
// three resolutions, check results with uptime counters, events,
// notifications with per-session read marks, chat, and alerting: the
// outbox of notifications to send, the active alerts and silences.
//
// # Writing
//
// Exactly one goroutine writes: Run drains a queue and commits one
// transaction per tick (the tick's sample plus every result and event queued
// before it). WriteSample never blocks (it drops with ErrQueueFull);
// WriteResult and AppendEvent block at most Options.EnqueueTimeout; AddEvent,
// AddEventWith, AddAlertChange, AddNotification, AddChat,
// MarkNotificationsRead, MarkOutbox, AddSilence, ExpireSilence, PutSession,
// UpdateSessions, DeleteSessions, CreateIncident, UpdateIncident,
// AddIncidentEntries and Flush wait for their commit (fsynced)
// and return the assigned IDs. Close commits whatever is still queued.
// Readers use short View transactions, copy what they need out and return.
// When commits fail, see # Write failures.
//
// A tick must cost the disk a few pages whatever the number of series, so
// samples and results are not written where they end up right away: each
// one is appended to the log bucket (one record per sample, one per result,
// always at the end of the bucket) and applied to the writer's memory (the
// open raw chunk, the open minute and hour of each series, the pending
// results). A plain tick dirties the log's last leaf, its branch, the root
// bucket page and the meta page. When a record opens a new 2-minute raw
// window (or the log reaches maxLogRecords), the same transaction first
// folds: it Puts the raw chunk of every series that got points and the
// head of every series that changed, inserts the logged results into their
// result chunks and uptime counters (each touched chunk and counter read
// and written once), and empties the log. Minutes and hours still close as
// before: the sample that ends one writes its rollup in its own
// transaction. Readers merge the log with what was folded (see # Crash
// safety for why the two never overlap).
//
// # Commit cadence
//
// Every commit costs two fdatasyncs, and on an idle host those (and the
// runtime wake-ups around a blocking syscall) were about a sixth of dashd's CPU.
// With Options.CommitInterval (the daemon's storage.commit_interval,
// 5 s by default) samples wait in the queue like results do, and
// everything without a waiter is committed together at the next multiple
// of the interval on the wall clock: the moment the sampler ticks anyway.
// What someone waits for (an event and its alert change, chat, a session)
// is committed at once and takes whatever waits along, so a result is
// never stored after the state change it caused. A read of results
// (Results, LastResults) commits waiting results first, so a heartbeat
// strip or a check page read once and then kept up from the flow misses
// none; samples may show up to one interval late in ranges. A stop
// commits what waits; a crash loses at most one interval of samples and
// results, which readers show as a gap.
//
// # Buckets
//
// Root buckets (all created by Open):
//
//	meta           schema -> uint32 schema version (SchemaVersion)
//	               chat_bytes -> uint64 chat bytes counted against the budget,
//	               uint64 chat sequence when it was written (# Chat budget)
//	series         <name> -> uint32 series id (ids from the bucket sequence)
//	heads          <id> -> head: newest raw time, raw encoder state, the open
//	               minute and hour aggregates (112 bytes), as of the last fold
//	log            <seq> -> a sample or a result applied since the last fold
//	raw            <window start><id> -> raw chunk: 2 minutes of one series,
//	               complete up to the last fold
//	m1             <hour start><id>   -> rollup chunk: the minutes of one hour
//	h1             <day start><id>    -> rollup chunk: the hours of one UTC day
//	results/<check>        <window start> -> result chunk: 10 minutes of one check
//	uptime/<check>/h       <hour start> -> counters up, unknown, degraded, down (4 x uint32)
//	uptime/<check>/d       <day start>  -> the same per UTC day
//	events         <id> -> event (ids from the bucket sequence, newest = largest)
//	notifications  <id> -> notification
//	reads          <session> -> uint64 highest read notification id, int64 last update (ns)
//	chat/<room>    <id> -> chat message (ids from the chat bucket's sequence, unique across rooms)
//	outbox/<channel>  <id> -> pending outbox item (ids from the outbox bucket's
//	               sequence: increasing per channel, unique across channels)
//	outbox_done    <done time><id> -> delivered or failed item, in finishing order
//	outbox_stats   <channel> -> channel record: pending count, last item added,
//	               last success, last failure and its error, delivered and
//	               failed counters (in items)
//	alerts         <alert key> -> firing alert (resolved ones are deleted)
//	silences       <id> -> silence (ids from the bucket sequence)
//	sessions       <key> -> signed-in session: user, role, sign-in method,
//	               groups, created, last seen, expires, client address and
//	               user agent (key: chosen by package auth, the hex SHA-256
//	               of the session cookie; the cookie itself is never stored)
//	incidents      <id> -> incident: title, state, times (started, updated,
//	               acknowledged, resolved) and by whom, summary, held, the
//	               checks and rules involved, what still fails, the entry
//	               count (ids from the bucket sequence, newest = largest)
//	incidents_open <id> -> empty: the index of the open incidents
//	incident_entries <incident id><seq> -> timeline entry (seq from 1 per
//	               incident: the last key of an incident's range numbers
//	               the next)
//
// # Keys
//
// Times in keys are 8-byte big-endian Unix milliseconds with the sign bit
// flipped, so byte order is time order. Series chunk keys put the time first
// and the 4-byte series id second: the chunks a fold writes sit together at
// the end of the bucket (packed full, a few pages, not one per series) and
// retention deletes a prefix. IDs are 8-byte big-endian sequence numbers;
// so are log keys (the log's own sequence, which restarts when a fold
// recreates the bucket), so replay follows the order records were applied.
//
// # Values
//
// Raw chunks hold one point per sample: the delta-of-delta of its time in ms
// (zigzag varint, 1 byte at a steady tick) and the XOR of its float32 bits
// with the previous value's (uvarint, 1 byte when unchanged). Series values
// are therefore kept as float32 (7 significant digits). Rollup chunks hold per
// slot: the slot gap, the count, and min, max, avg, last rounded to 16 bits of
// mantissa (5 significant digits) XORed with the previous slot's. A minute or
// hour is written to its chunk when a later sample (of any series) arrives;
// until then it lives in the writer's memory, and Range rebuilds it from the
// stored head and the series' points in the log. Result
// chunks hold time (ms), state (its top bit marks a result taken in a
// maintenance window, which the uptime counters count as unknown), latency
// (ns), reason and values (float64, keys from a per-chunk dictionary). Events, notifications and chat messages
// start with their time in ns, then length-prefixed strings. A log record is
// a kind byte and its time (ms, as in keys), then for a sample per applied
// point uvarint(id<<1|wide) and the value as float32 bits (4 bytes, when the
// value is exactly a float32) or float64 bits (8 bytes, so replay rebuilds
// the aggregates exactly); for a result the check name and a one-result
// result chunk. A sample whose points were all dropped still gets a record.
//
// Alerting records (outbox items, channel records, alerts, silences), and
// sessions, incidents and their entries the same way, are
// JSON objects with short field names of storage's own record types (not
// the model's JSON, which is the API's and may change): they are few and
// written at the rate of alerts, JSON lets fields be added without a
// schema version, and nothing in them can make encoding fail. Their times
// are Unix nanoseconds (0: none), so the writes refuse times outside the
// years 1700-2200. An outbox item holds its channel, Created, EventID, the
// alert, Reminder, Test, its state by name, attempts, next attempt, last
// error, Done and MessageID; its ID is the last 8 bytes of its key.
//
// # Write failures
//
// A commit fails when the disk is full (bbolt cannot grow the file or write
// a page: ENOSPC, EFBIG, a quota), read-only or failing. bbolt rolls the
// transaction back; the file stays consistent, reads go on working, and
// the writer reloads its memory from the file, so the next commit starts
// from what is on disk. Nothing is retried in a loop: the next tick's
// commit (or the FlushInterval timer) is the next try, and the first that
// succeeds ends the outage by itself. The contract, per record:
//
//   - When the whole commit fails, the records that are not bulky (all but
//     samples and results) are retried at once in a transaction of their
//     own: a full disk still takes small commits while the file has free
//     pages, so events and chat are stored whenever they fit.
//   - Samples and results that are not stored are dropped and counted by
//     kind (WriteHealth.Dropped): a dropped sample is a gap in the charts
//     that WriteHealth reports instead of hiding.
//   - Events, notifications and alert changes (dashd's own small records;
//     an event with its alert change is one record, stored whole or not at
//     all) are held in memory instead, oldest first, up to 1024 records
//     or 1 MiB (beyond that they are dropped like the rest), and go first
//     into every following commit: the first one that succeeds stores them
//     with their IDs, in the order they were written. Held records are lost
//     only if the process ends first; Close makes one last attempt and
//     counts and logs what it could not store. A kind may be held only if
//     its apply cannot fail because of its content, or one record would
//     fail every commit after it.
//   - Synchronous writers get their answer from the commit attempt, as
//     promptly as without an outage: AddEvent, AddEventWith,
//     AddAlertChange and AddNotification records with ID 0 and an error
//     wrapping ErrHeld (do not write them again), AddChat,
//     MarkNotificationsRead, MarkOutbox, AddSilence, ExpireSilence, the
//     session and incident writes and Flush (and held kinds over the bound) an error
//     wrapping ErrWriteFailed. Both wrap the cause too.
//   - If bbolt reports an error after the meta page reached the file (only
//     the final fsync failed), the records count as stored: they are
//     visible in the file and writing them again would duplicate them.
//
// WriteHealth tells /readyz, /metrics and the dashboard: whether commits
// succeed, since when they fail, the last error, failed commits, records
// dropped and held, the last successful commit. A failure streak starts
// with a failed commit and ends with a successful one that stored a sample
// (or any, if no sample was lost meanwhile): a small commit that still fits
// in the file's free pages does not mean the disk has room again. The log
// says when a streak starts, reminds at most once a minute while it lasts,
// and says when it ends with how long it lasted and what was dropped; a
// streak that starts within a minute of the last line (a disk hovering at
// full) waits for the next reminder. Retention transactions that fail are
// logged on their own and do not count: they store nothing.
//
// # Outbox
//
// An alert change is written in the same transaction as the event that
// caused it (AddEventWith; AddAlertChange for one without an event), before
// any network call: the event, the alerts' new states (alerts: a firing
// alert is stored by its key, a resolved one deleted) and one outbox item
// per channel that must hear of it, each counted in its channel's record.
// Every acknowledged item is therefore on disk, with its event, and a
// restart resumes the queue. An item stays in outbox/<channel> while it is
// pending; MarkOutbox records each delivery attempt there, and moves an
// item that was delivered or given up to outbox_done and counts it in the
// channel's record, in one transaction. So Outbox reads the front of one
// small bucket, OutboxStats and PendingCount one record per channel, and
// Deliveries the end of outbox_done; none of them scans items. A change
// is bounded (4096 alerts and items, about 1 MiB, names as keys up to
// 1 KiB) so that it can always be held whole. Reads of alerting records
// log and skip one that cannot be decoded, so a damaged record never stops
// a channel or the alerts page.
//
// # Chat budget
//
// Chat is what visitors write, so it has a budget in bytes
// (Options.ChatMaxBytes, default 32 MiB): each message counts its key and
// encoded value, and the total is kept in the meta bucket, updated in the
// same transaction as every message and every deletion (Open recounts it
// once when it is missing, or when the chat sequence moved since it was
// written: an older dashd added messages). When a message takes the total
// above the budget, the same transaction deletes the oldest messages
// across all rooms (lowest IDs: one sequence serves every room) until the
// total is under the budget, and goes on down to 15/16 of it deleting at
// most 2048 more: finding the oldest message of every room costs a walk
// over the rooms, paid once per trim, not per message. The message just
// written is never deleted; rooms left empty are deleted, so ChatRooms
// lists exactly the rooms that hold messages. bbolt reuses freed pages, so
// a bounded chat total means the chat's share of the file stops growing.
//
// # Retention
//
// Run starts a pass at once and every Options.RetentionInterval. A pass
// deletes in transactions of at most 5000 keys, interleaved with ingest.
// Chunks go when their whole window is older than the cutoff (so a tier keeps
// up to one chunk width more than its retention: 2 min raw, 1 h minute,
// 1 day hour, 10 min results); records go when their own time is (chat
// deletions also come off the chat total, and emptied rooms go).
// Retention.Events also covers finished outbox items (by Done), silences
// that ended (by End, or Expired if earlier) and the record of a channel
// with nothing pending and no activity since the cutoff; pending outbox
// items and active alerts never go by age. Resolved incidents go with
// their entries when they resolved before the Retention.Events cutoff;
// open ones never go by age. Sessions go an hour after their
// Expires (auth ends them on time itself; the hour covers its batched
// last-seen writes), and so do session records that cannot be decoded;
// Retention does not apply to them. Hourly
// uptime counters follow Retention.Results, daily ones Retention.Hour.
// Retention never touches the log (it holds only what arrived since the last
// fold) nor forgets a series the log still refers to.
// bbolt reuses freed pages, so the file stops growing once every tier has
// reached its retention; it never shrinks by itself.
//
// # Size
//
// Measured with BenchmarkSimulate (200 series at 1 s, 20 checks at 30 s,
// default retention; a quarter of the series full-precision noise):
//
//	size ≈ 1.17 × ( S × R×86400/i × 3.3 B      raw (R = Retention.Raw in days, i = tick s)
//	              + S × M×1440 × 9.2 B          minute rollups (M = Retention.Minute in days)
//	              + S × H×24 × 10.9 B           hour rollups (H = min(Retention.Hour, age) in days)
//	              + C × D×86400/j × 11.5 B )    results (C checks every j s, D = Retention.Results days)
//
// where 1.17 covers page headers, partly filled pages and free pages; the
// log adds at most one raw window: about 120 × (9 + 6 × S) B of samples plus
// the results, 65 KB for 90 series (up to 8 pages more while it grows). For the
// defaults at day 90: 57 + 80 + 5 + 20 MB of data, 189 MB of pages in use,
// a 199 MB file. Minute rollups and results stop growing at day 30; the hour
// tier keeps adding about 0.06 MB a day for 200 series until Retention.Hour
// (400 days) is reached: about +17 MB.
//
// # Crash safety
//
// Every commit is fsynced by bbolt and Open refuses (never recreates) a file
// it cannot read. The file always holds, for every sample and result
// committed, either its log record or what the fold made of it, never both:
// a fold writes the chunks, heads and counters and empties the log in one
// transaction. The heads, the raw chunks and the result chunks are therefore
// exactly the writer's state at the last fold, and Open rebuilds the rest by
// replaying the log in memory through the same code as live writes (nothing
// is written: a minute or hour a logged sample closed was written in that
// record's own transaction, and upserting a rollup is idempotent per slot
// anyway). A SIGKILL loses at most the queued, not yet committed tick; a
// clean Close does not fold, the next Open replays.
//
// bbolt writes its freelist with every commit (NoFreelistSync stays off):
// the alternative rebuilds the freelist at Open by walking every page of
// the file, which maps the whole file into dashd's resident memory and
// turns some kinds of damage into a panic in bbolt's own goroutine.
//
// # Versions
//
// Schema version 2 (this one) added the log bucket. A version 1 file (heads
// rewritten every tick, the open window's raw chunks in place, no log) is
// exactly a version 2 file right after a fold, so Open migrates it by
// creating the log bucket and writing the new version; nothing is
// rewritten. The version is bumped because the change is not compatible
// backwards: a version 1 dashd would ignore the log and lose up to two
// minutes of points and results, so it refuses the file (ErrNewerSchema).
//
// The alerting buckets (outbox, outbox_done, outbox_stats, alerts,
// silences), sessions and incidents were added within version 2, without a bump: Open creates
// them in a file that lacks them (nothing else changes), and a dashd that
// predates them ignores them and loses nothing it knew about.
package storage
