// Package storage keeps dashd's history in one bbolt file: metric series at
// three resolutions, check results with uptime counters, events,
// notifications with per-session read marks, and chat.
//
// # Writing
//
// Exactly one goroutine writes: Run drains a queue and commits one
// transaction per tick (the tick's sample plus every result and event queued
// before it). WriteSample never blocks (it drops with ErrQueueFull);
// WriteResult and AppendEvent block at most Options.EnqueueTimeout; AddEvent,
// AddNotification, AddChat, MarkNotificationsRead and Flush wait for their
// commit and return the assigned ID. Close commits whatever is still queued.
// Readers use short View transactions, copy what they need out and return.
//
// # Buckets
//
// Root buckets (all created by Open):
//
//	meta           schema -> uint32 schema version (SchemaVersion)
//	series         <name> -> uint32 series id (ids from the bucket sequence)
//	heads          <id> -> head: newest raw time, raw encoder state, the open
//	               minute and hour aggregates (112 bytes, rewritten per tick)
//	raw            <window start><id> -> raw chunk: 2 minutes of one series
//	m1             <hour start><id>   -> rollup chunk: the minutes of one hour
//	h1             <day start><id>    -> rollup chunk: the hours of one UTC day
//	results/<check>        <window start> -> result chunk: 10 minutes of one check
//	uptime/<check>/h       <hour start> -> counters up, unknown, degraded, down (4 x uint32)
//	uptime/<check>/d       <day start>  -> the same per UTC day
//	events         <id> -> event (ids from the bucket sequence, newest = largest)
//	notifications  <id> -> notification
//	reads          <session> -> uint64 highest read notification id, int64 last update (ns)
//	chat/<room>    <id> -> chat message (ids from the chat bucket's sequence, unique across rooms)
//
// # Keys
//
// Times in keys are 8-byte big-endian Unix milliseconds with the sign bit
// flipped, so byte order is time order. Series chunk keys put the time first
// and the 4-byte series id second: the open chunks of all series sit together
// at the end of the bucket (a tick dirties a few pages, not one per series)
// and retention deletes a prefix. IDs are 8-byte big-endian sequence numbers.
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
// until then it lives in the series head, which Range also reads. Result
// chunks hold time (ms), state, latency (ns), reason and values (float64,
// keys from a per-chunk dictionary). Events, notifications and chat messages
// start with their time in ns, then length-prefixed strings.
//
// # Retention
//
// Run starts a pass at once and every Options.RetentionInterval. A pass
// deletes in transactions of at most 5000 keys, interleaved with ingest.
// Chunks go when their whole window is older than the cutoff (so a tier keeps
// up to one chunk width more than its retention: 2 min raw, 1 h minute,
// 1 day hour, 10 min results); records go when their own time is. Hourly
// uptime counters follow Retention.Results, daily ones Retention.Hour.
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
// where 1.17 covers page headers, partly filled pages and free pages. For the
// defaults at day 90: 57 + 80 + 5 + 20 MB of data, 189 MB of pages in use,
// a 199 MB file. Minute rollups and results stop growing at day 30; the hour
// tier keeps adding about 0.06 MB a day for 200 series until Retention.Hour
// (400 days) is reached: about +17 MB.
//
// # Crash safety
//
// Every commit is fsynced by bbolt, the heads are committed in the same
// transaction as the points they describe, and Open refuses (never
// recreates) a file it cannot read. A SIGKILL loses at most the queued,
// not yet committed tick.
package storage
