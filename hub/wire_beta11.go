package hub

// This file is the only place that knows the wire protocol of the pinned
// Datastar client, 1.0.0-beta.11. Moving to the 1.0 protocol
// (datastar-patch-elements, datastar-patch-signals, "elements"/"mode" data
// lines, scripts sent as elements) means rewriting this file and its golden
// files, nothing else.
//
// An event is one Server-Sent Event:
//
//	event: datastar-merge-fragments
//	data: selector #clock
//	data: mergeMode inner
//	data: fragments <span>12:00</span>
//	(blank line)
//
// The client splits each data line at its first space into key and value and
// joins repeated keys with "\n", so multi-line values (HTML, scripts, paths)
// become one data line per line. Values equal to the client's default are
// left out, which keeps broadcasts small.

import (
	"errors"
	"strings"
)

// Event names understood by the beta.11 client. A 1.0 name is silently
// ignored by it.
const (
	wireMergeFragments  = "datastar-merge-fragments"
	wireMergeSignals    = "datastar-merge-signals"
	wireRemoveFragments = "datastar-remove-fragments"
	wireRemoveSignals   = "datastar-remove-signals"
	wireExecuteScript   = "datastar-execute-script"
)

// wireMergeMode returns the client's name of m; ModeMorph is the default and
// is never written.
func wireMergeMode(m MergeMode) (string, bool) {
	switch m {
	case ModeMorph:
		return "morph", true
	case ModeInner:
		return "inner", true
	case ModeOuter:
		return "outer", true
	case ModePrepend:
		return "prepend", true
	case ModeAppend:
		return "append", true
	case ModeBefore:
		return "before", true
	case ModeAfter:
		return "after", true
	case ModeUpsertAttributes:
		return "upsertAttributes", true
	}
	return "", false
}

// errUnknownMergeMode is returned for a MergeMode outside the constants.
var errUnknownMergeMode = errors.New("unknown merge mode")

// appendEvent appends the SSE bytes of e to dst. e must have no error.
func appendEvent(dst []byte, e *Event) ([]byte, error) {
	switch e.kind {
	case kindPatchElements:
		mode, ok := wireMergeMode(e.mode)
		if !ok {
			return dst, errUnknownMergeMode
		}
		dst = appendField(dst, "event: ", wireMergeFragments)
		if e.selector != "" {
			dst = appendData(dst, "selector ", e.selector)
		}
		if e.mode != ModeMorph {
			dst = appendData(dst, "mergeMode ", mode)
		}
		if e.viewTransition {
			dst = appendData(dst, "useViewTransition ", "true")
		}
		dst = appendLines(dst, "fragments ", e.html)
	case kindPatchSignals:
		dst = appendField(dst, "event: ", wireMergeSignals)
		if e.onlyIfMissing {
			dst = appendData(dst, "onlyIfMissing ", "true")
		}
		dst = appendData(dst, "signals ", string(e.signals))
	case kindRemoveElements:
		dst = appendField(dst, "event: ", wireRemoveFragments)
		dst = appendData(dst, "selector ", e.selector)
		if e.viewTransition {
			dst = appendData(dst, "useViewTransition ", "true")
		}
	case kindRemoveSignals:
		dst = appendField(dst, "event: ", wireRemoveSignals)
		for _, p := range e.paths {
			dst = appendLines(dst, "paths ", p)
		}
	case kindExecuteScript:
		dst = appendField(dst, "event: ", wireExecuteScript)
		if e.keepScript {
			dst = appendData(dst, "autoRemove ", "false")
		}
		for _, a := range e.attributes {
			dst = appendLines(dst, "attributes ", a)
		}
		dst = appendLines(dst, "script ", e.script)
	default:
		return dst, ErrEmptyEvent
	}
	return append(dst, '\n'), nil
}

func appendField(dst []byte, field, value string) []byte {
	dst = append(dst, field...)
	dst = append(dst, value...)
	return append(dst, '\n')
}

// appendData writes one data line; value must not contain a line break (use
// appendLines when it may).
func appendData(dst []byte, key, value string) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, key...)
	dst = append(dst, value...)
	return append(dst, '\n')
}

// appendLines writes one data line per line of value. SSE treats CR, LF and
// CRLF all as line ends, so each of them splits. A final line end adds no
// empty line: templates usually end with one.
func appendLines(dst []byte, key, value string) []byte {
	for {
		i := strings.IndexAny(value, "\r\n")
		if i < 0 {
			return appendData(dst, key, value)
		}
		dst = appendData(dst, key, value[:i])
		if value[i] == '\r' && i+1 < len(value) && value[i+1] == '\n' {
			i++
		}
		value = value[i+1:]
		if value == "" {
			return dst
		}
	}
}
