package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/a-h/templ"
)

// Event is one Datastar instruction for the browser: patch some elements,
// patch some signals, remove elements or signals, or run a script.
//
// An Event is a plain value built by one of the constructors (PatchElements,
// PatchSignals, RemoveElements, RemoveSignals, ExecuteScript, PatchComponent).
// It holds what to do, not how it looks on the wire: the bytes are produced by
// the wire encoder (wire_beta11.go), once per broadcast, however many clients
// receive it.
//
// A constructor that fails (a value that cannot be marshalled, a component that
// fails to render) returns an Event that carries the error; see Event.Err.
// Sending such an event skips it and logs the error.
type Event struct {
	kind kind

	// PatchElements / RemoveElements.
	html           string
	selector       string
	mode           MergeMode
	viewTransition bool

	// PatchSignals.
	signals       []byte // compact JSON, one line
	onlyIfMissing bool

	// RemoveSignals.
	paths []string

	// ExecuteScript.
	script     string
	keepScript bool     // the zero value removes the script element after it ran, as the client does by default
	attributes []string // "name value" pairs; nil means the client's default (type module)

	err error
}

type kind uint8

const (
	kindInvalid kind = iota
	kindPatchElements
	kindPatchSignals
	kindRemoveElements
	kindRemoveSignals
	kindExecuteScript
)

func (k kind) String() string {
	switch k {
	case kindPatchElements:
		return "PatchElements"
	case kindPatchSignals:
		return "PatchSignals"
	case kindRemoveElements:
		return "RemoveElements"
	case kindRemoveSignals:
		return "RemoveSignals"
	case kindExecuteScript:
		return "ExecuteScript"
	}
	return "invalid"
}

// Err reports why the constructor could not build the event, or nil.
// The zero Event reports ErrEmptyEvent.
func (e Event) Err() error {
	if e.kind == kindInvalid && e.err == nil {
		return ErrEmptyEvent
	}
	return e.err
}

// String names the kind of event, for logs.
func (e Event) String() string { return e.kind.String() }

// MergeMode says how patched elements go into the page. The zero value is
// ModeMorph, the client's default.
type MergeMode uint8

// The merge modes the client understands.
const (
	// ModeMorph morphs the matching element into the new one, keeping focus
	// and state of unchanged nodes (idiomorph).
	ModeMorph MergeMode = iota
	// ModeInner replaces the children of the target.
	ModeInner
	// ModeOuter replaces the target itself, without morphing.
	ModeOuter
	// ModePrepend inserts the elements as the first children of the target.
	ModePrepend
	// ModeAppend inserts the elements as the last children of the target.
	ModeAppend
	// ModeBefore inserts the elements before the target.
	ModeBefore
	// ModeAfter inserts the elements after the target.
	ModeAfter
	// ModeUpsertAttributes copies the attributes of the new element onto the
	// target and leaves its children alone.
	ModeUpsertAttributes
)

// ElementOption tunes PatchElements, PatchComponent and RemoveElements.
type ElementOption func(*Event)

// WithSelector sets the CSS selector of the target. Without it the client
// targets the element with the same id as each top-level patched element.
func WithSelector(selector string) ElementOption {
	return func(e *Event) { e.selector = selector }
}

// WithMergeMode sets how the elements are merged; the default is ModeMorph.
func WithMergeMode(m MergeMode) ElementOption {
	return func(e *Event) { e.mode = m }
}

// WithViewTransition wraps the change in a View Transition where the browser
// supports one. RemoveElements honours it too.
func WithViewTransition() ElementOption {
	return func(e *Event) { e.viewTransition = true }
}

// PatchElements patches HTML into the page: by default each top-level element
// morphs into the element of the same id.
func PatchElements(html string, opts ...ElementOption) Event {
	e := Event{kind: kindPatchElements, html: html}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// PatchComponent renders a templ component and patches the result like
// PatchElements. A render error is carried in the returned Event (see Err).
func PatchComponent(ctx context.Context, c templ.Component, opts ...ElementOption) Event {
	var sb strings.Builder
	if err := c.Render(ctx, &sb); err != nil {
		return Event{kind: kindPatchElements, err: fmt.Errorf("hub: render component: %w", err)}
	}
	return PatchElements(sb.String(), opts...)
}

// RemoveElements removes every element matching the CSS selector. Of the
// ElementOptions only WithViewTransition applies.
func RemoveElements(selector string, opts ...ElementOption) Event {
	e := Event{kind: kindRemoveElements}
	for _, o := range opts {
		o(&e)
	}
	e.selector = selector
	e.mode = ModeMorph
	if selector == "" {
		e.err = fmt.Errorf("hub: RemoveElements: %w", ErrEmptySelector)
	}
	return e
}

// SignalOption tunes PatchSignals.
type SignalOption func(*Event)

// WithOnlyIfMissing sets signals only where the page does not have them yet,
// e.g. defaults that must not overwrite what the user typed.
func WithOnlyIfMissing() SignalOption {
	return func(e *Event) { e.onlyIfMissing = true }
}

// PatchSignals merges value into the page's signals. value is marshalled with
// encoding/json (a struct, a map, ...); a json.RawMessage is used as it is,
// after a validity check. Nested objects merge; a null value removes a signal.
func PatchSignals(value any, opts ...SignalOption) Event {
	e := Event{kind: kindPatchSignals}
	for _, o := range opts {
		o(&e)
	}
	var b []byte
	var err error
	if raw, ok := value.(json.RawMessage); ok {
		// Compact: the wire carries the JSON on one line, and user-supplied raw
		// JSON may be indented.
		var buf bytes.Buffer
		err = json.Compact(&buf, raw)
		b = buf.Bytes()
	} else {
		b, err = json.Marshal(value)
	}
	if err != nil {
		e.err = fmt.Errorf("hub: PatchSignals: %w", err)
		return e
	}
	e.signals = b
	return e
}

// RemoveSignals removes the signals at the given dotted paths ("form.name").
func RemoveSignals(paths ...string) Event {
	e := Event{kind: kindRemoveSignals, paths: append([]string(nil), paths...)}
	if len(paths) == 0 {
		e.err = fmt.Errorf("hub: RemoveSignals: %w", ErrNoPaths)
	}
	return e
}

// ScriptOption tunes ExecuteScript.
type ScriptOption func(*Event)

// WithKeepScript leaves the script element in the document after it ran; by
// default the client removes it.
func WithKeepScript() ScriptOption {
	return func(e *Event) { e.keepScript = true }
}

// WithScriptAttribute sets an attribute on the script element (repeatable).
// Setting any attribute replaces the client's default, type="module".
func WithScriptAttribute(name, value string) ScriptOption {
	return func(e *Event) { e.attributes = append(e.attributes, name+" "+value) }
}

// ExecuteScript runs JavaScript in the page.
func ExecuteScript(js string, opts ...ScriptOption) Event {
	e := Event{kind: kindExecuteScript, script: js}
	for _, o := range opts {
		o(&e)
	}
	if strings.TrimSpace(js) == "" {
		e.err = fmt.Errorf("hub: ExecuteScript: %w", ErrEmptyScript)
	}
	return e
}
