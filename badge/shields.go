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
	Style         string `json:"style,omitempty"`
}

// ShieldsJSON returns the badge as shields.io endpoint-badge JSON
// (schemaVersion 1), so https://img.shields.io/endpoint?url=... draws the same
// badge. Colour names stay names and hex gets a "#"; an empty LabelColor and
// the flat style are left out because they are shields' defaults. It fails
// like Render on an empty message, an invalid colour or an unknown style.
func ShieldsJSON(b Badge) ([]byte, error) {
	p, err := prepare(b)
	if err != nil {
		return nil, err
	}
	e := shieldsEndpoint{SchemaVersion: 1, Label: p.label, Message: p.message}
	if e.Color, err = shieldsColor(orDefault(b.Color, defaultColor)); err != nil {
		return nil, err
	}
	if b.LabelColor != "" {
		if e.LabelColor, err = shieldsColor(b.LabelColor); err != nil {
			return nil, err
		}
	}
	switch b.Style {
	case StyleFlat:
	case StyleFlatSquare, StyleForTheBadge:
		e.Style = b.Style.String()
	default:
		return nil, fmt.Errorf("badge: shields json %v: %w", b.Style, ErrUnknownStyle)
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
