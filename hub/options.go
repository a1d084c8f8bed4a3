package hub

import (
	"log/slog"
	"runtime"
	"time"
)

// Defaults for New.
const (
	// DefaultHeartbeat is how often an idle stream gets a comment line, so
	// that a vanished client is noticed (a write is the only way to see it).
	DefaultHeartbeat = 15 * time.Second
	// DefaultQueueBytes is how many bytes of broadcasts may wait for one
	// client before it counts as too slow and is evicted. Dashboard updates
	// are a few KiB; this holds a long burst of them, and bounds what a
	// client that stopped reading costs: bytes, not a count of events of any
	// size.
	DefaultQueueBytes = 256 << 10
	// DefaultWriteTimeout bounds one write to a client socket.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultSendBuffer is the socket send buffer of a stream connection.
	// Left alone, Linux grows the buffer of a client that never reads to
	// ~4 MB, and the hub only notices (a write that times out) once that is
	// full: about 40 minutes of dashboard updates. With 64 KiB (the kernel
	// doubles it for its bookkeeping) a write to a stuck client blocks after
	// ~128 KiB, and it is evicted within the write timeout; at dashboard
	// traffic the progress check (see WithWriteTimeout) finds it sooner.
	DefaultSendBuffer = 64 << 10
	// DefaultRetryAfter is the Retry-After a refused stream is told.
	DefaultRetryAfter = 5 * time.Second
)

// Option configures a Hub.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	heartbeat    time.Duration
	queueBytes   int64
	writeTimeout time.Duration
	sendBuffer   int
	maxStreams   int // 0: no cap
	maxPerAddr   int // 0: no cap
	retryAfter   time.Duration
	compress     bool // gzip for streams whose request accepts it
	// attachTimeout bounds the gap between registering a stream and its
	// connection being handed over; it is normally microseconds. Not an
	// option: tests shorten it.
	attachTimeout time.Duration
	// progressEvery is how often a socket holding unacknowledged bytes is
	// checked (see progress.go). Not an option: tests shorten it.
	progressEvery time.Duration
	// writers is how many goroutines a broadcast to many clients is split
	// across, each taking at least minPerWriter clients (see direct.go).
	// Not options: tests lower them.
	writers, minPerWriter int
}

func defaultConfig() config {
	return config{
		logger:       slog.New(slog.DiscardHandler),
		heartbeat:    DefaultHeartbeat,
		queueBytes:   DefaultQueueBytes,
		writeTimeout: DefaultWriteTimeout,
		sendBuffer:   DefaultSendBuffer,
		retryAfter:   DefaultRetryAfter,
		compress:     true,

		attachTimeout: 10 * time.Second,
		progressEvery: defaultProgressEvery,
		writers:       max(runtime.GOMAXPROCS(0), 1),
		minPerWriter:  defaultMinPerWriter,
	}
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithHeartbeat sets the heartbeat interval of idle streams; d <= 0 keeps
// DefaultHeartbeat.
func WithHeartbeat(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.heartbeat = d
		}
	}
}

// WithQueueBytes bounds the bytes waiting for one client (queued, or being
// written to its socket); a client that a broadcast would take over it is
// evicted ("queue full"). A broadcast bigger than n still reaches a client
// with nothing waiting. n <= 0 keeps DefaultQueueBytes. The bytes of a
// broadcast are shared by all its recipients, but each client counts them
// in full: it is what the client holds in memory if it alone is stuck.
func WithQueueBytes(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.queueBytes = int64(n)
		}
	}
}

// WithWriteTimeout bounds each write to a client; a client whose socket
// accepts nothing for that long is evicted, and so is one whose peer
// acknowledges nothing for that long while bytes wait for it (checked at
// most every second, see progress.go). d <= 0 keeps DefaultWriteTimeout.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.writeTimeout = d
		}
	}
}

// WithSendBuffer sets the socket send buffer (SO_SNDBUF) of stream
// connections, in bytes; n <= 0 keeps DefaultSendBuffer. Smaller evicts a
// stuck client sooner; larger suits clients far away on fast links.
func WithSendBuffer(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.sendBuffer = n
		}
	}
}

// WithMaxStreams caps the streams open at once; beyond it HandleSSE answers
// 503 with Retry-After. Each stream holds a file descriptor: the daemon
// derives the cap from RLIMIT_NOFILE so that a flood of streams cannot take
// the descriptors storage, checks and the listener need. n <= 0: no cap.
func WithMaxStreams(n int) Option {
	return func(c *config) { c.maxStreams = max(n, 0) }
}

// WithMaxStreamsPerAddress caps the streams open at once from one client
// address (see WithAddress), so that one client cannot take every stream;
// beyond it HandleSSE answers 503 with Retry-After. n <= 0: no cap.
func WithMaxStreamsPerAddress(n int) Option {
	return func(c *config) { c.maxPerAddr = max(n, 0) }
}

// WithRetryAfter sets the wait a refused stream is told (Retry-After, whole
// seconds, at least 1); d <= 0 keeps DefaultRetryAfter.
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.retryAfter = d
		}
	}
}

// WithCompression turns gzip for streams on or off; it is on by default.
// On, a stream whose request accepts gzip (Accept-Encoding) is sent
// compressed: each broadcast is compressed once and shared by every such
// stream (see compress.go), so it costs CPU per broadcast, not per client,
// and no memory per client; dashboard traffic shrinks ~4x, the on-connect
// state ~6x. Off, every stream is plain, whatever it accepts.
func WithCompression(on bool) Option {
	return func(c *config) { c.compress = on }
}
