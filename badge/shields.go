package badge

import (
	"encoding/json"
	"fmt"
	"strings"
)

// shieldsEndpoint is the shields.io endpoint-badge schema
// (https://shields.io/badges/endpoint-badge). shields rejects unknown keys, so
// only schema fields appear; label is required even when empty.
type shieldsEndpoint struct {
	SchemaVersion int    `json:"schemaVersion"`
	Label         string `json:"label"`
	Message       string `json:"message"`
	Color         string `json:"color,omitempty"`
	LabelColor    string `json:"labelColor,omitempty"`
	IsError       bool   `json:"isError,omitempty"`
	Style         string `json:"style,omitempty"`
	CacheSeconds  int    `json:"cacheSeconds,omitempty"`
}

// ShieldsOptions are the endpoint-JSON fields that are not part of how a
// badge looks.
type ShieldsOptions struct {
	// IsError marks the badge as an error (an unknown check, a refused
	// parameter). shields.io then draws it in the given colour even when the
	// reader's URL asks for another.
	IsError bool
	// CacheSeconds, when positive, is sent as cacheSeconds: how long
	// shields.io may cache the badge (it never caches less than its own
	// default of 300 s for endpoint badges).
	CacheSeconds int
}

// ShieldsJSON returns the badge as shields.io endpoint-badge JSON
// (schemaVersion 1), so https://img.shields.io/endpoint?url=... draws the same
// badge. It is ShieldsJSONWith with no options.
func ShieldsJSON(b Badge) ([]byte, error) {
	return ShieldsJSONWith(b, ShieldsOptions{})
}

// ShieldsJSONWith returns the badge as shields.io endpoint-badge JSON with
// isError and cacheSeconds from o. Colour names stay names (shields resolves
// them), hex gets a "#", rgb() and hsl() are sent as the fill this package
// draws; an empty LabelColor and the flat style are left out because they
// are shields' defaults. It fails like Render on an empty message, an
// invalid colour or an unknown style.
func ShieldsJSONWith(b Badge, o ShieldsOptions) ([]byte, error) {
	p, err := prepare(b)
	if err != nil {
		return nil, err
	}
	e := shieldsEndpoint{SchemaVersion: 1, Label: p.label, Message: p.message, Color: p.msgFill.json, IsError: o.IsError}
	if b.LabelColor != "" {
		e.LabelColor = p.labelFill.json
	}
	if b.Style != StyleFlat {
		e.Style = b.Style.String()
	}
	if o.CacheSeconds > 0 {
		e.CacheSeconds = o.CacheSeconds
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	// Labels such as "a<b" stay readable; the body is served as JSON, never
	// inlined into HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("badge: encode shields json: %w", err)
	}
	return []byte(strings.TrimSuffix(buf.String(), "\n")), nil
}
