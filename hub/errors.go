package hub

import "errors"

// ErrEmptyEvent is returned by Event.Err for the zero Event, which no
// constructor made.
var ErrEmptyEvent = errors.New("hub: empty event")

// ErrEmptySelector is carried by a RemoveElements event built with an empty
// selector: the client would reject it.
var ErrEmptySelector = errors.New("empty selector")

// ErrNoPaths is carried by a RemoveSignals event built without paths.
var ErrNoPaths = errors.New("no signal paths")

// ErrEmptyScript is carried by an ExecuteScript event without script text.
var ErrEmptyScript = errors.New("empty script")

// ErrAlreadyRunning is returned by Run when the hub is, or was, already run:
// a hub runs once.
var ErrAlreadyRunning = errors.New("hub: Run called twice")

// errStreamClosed is returned by client.setWriteDeadline once the stream
// was closed.
var errStreamClosed = errors.New("hub: stream closed")
