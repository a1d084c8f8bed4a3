// Package hub carries dashd's live updates to browsers: Datastar events over
// Server-Sent Events.
//
// # Streams
//
// A page opens one long-lived stream with data-on-load="@get('/...')"; the
// handler calls Hub.HandleSSE with the rooms and session of that page and an
// OnConnect hook that sends the page its full current state. Producers then
// call Broadcast, BroadcastToRoom or SendToSession. Each broadcast is encoded
// to bytes once and the same bytes are queued for every recipient.
//
// # Slow and dead clients
//
// A broadcast writes each recipient's socket itself when the socket takes
// the bytes at once (a non-blocking write: no goroutine woken per client,
// see direct.go). What a socket does not take goes to the client's queue,
// bounded in bytes and drained by the client's own goroutine, which waits
// for the socket under the write timeout. The socket send buffer is bounded
// too (the kernel would otherwise take megabytes for a client that never
// reads before a write blocks).
//
// A client is evicted (disconnected abruptly, counted and logged) when its
// queue is full, when its socket accepts nothing for the write timeout, or
// when its peer acknowledges nothing for the write timeout while bytes wait
// for it ("not reading", see progress.go): at dashboard traffic that finds
// a client that stopped reading within seconds, long before the buffers
// fill. The beta.11 client retries an abrupt end (not a clean one) and its
// reconnect gets fresh full state from OnConnect. A client that vanished is
// only noticed when a write fails, so idle streams get a heartbeat comment
// (": ping").
//
// # Limits
//
// Each stream holds a file descriptor. Streams can be capped in total and
// per client address; beyond a cap a stream is answered 503 with
// Retry-After and a message naming the limit, and the refusal is counted in
// Stats.
//
// # Compression and the first state
//
// A stream whose request accepts gzip is sent gzip (WithCompression, on by
// default): each broadcast is compressed once, on its own, and the same
// bytes go to every gzip stream, so compression costs CPU per broadcast
// and no memory per client, and direct writes are unchanged (compress.go).
// A page may record what it rendered (Hub.Remember) and give the token to
// its stream (WithRendered): the stream's first connect then leaves out
// the element patches the page already has (rendered.go).
//
// # Request-scoped replies
//
// SSE returns a Writer for one-off replies (a POST answering with patches)
// and ReadSignals decodes the signals a request carries. ReadSignals reads
// the body as sent and refuses a compressed one (415): it never inflates.
//
// # Wire protocol
//
// The bytes are those of the pinned client, Datastar 1.0.0-beta.11
// (datastar-merge-fragments, datastar-merge-signals, ...). All of it lives in
// wire_beta11.go, pinned by the golden files in testdata/.
package hub
