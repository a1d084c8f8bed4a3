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
// Every client has a bounded queue drained by its own goroutine. A client
// whose queue is full, or whose socket accepts nothing for the write timeout,
// is evicted: disconnected abruptly, counted and logged. The beta.11 client
// retries an abrupt end (not a clean one) and its reconnect gets fresh full
// state from OnConnect. A client that vanished is only noticed when a write
// fails, so idle streams get a heartbeat comment (": ping").
//
// # Request-scoped replies
//
// SSE returns a Writer for one-off replies (a POST answering with patches)
// and ReadSignals decodes the signals a request carries.
//
// # Wire protocol
//
// The bytes are those of the pinned client, Datastar 1.0.0-beta.11
// (datastar-merge-fragments, datastar-merge-signals, ...). All of it lives in
// wire_beta11.go, pinned by the golden files in testdata/.
package hub
