package channel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dashd/dashd/model"
)

// payload is the JSON document a webhook posts by default and a command
// reads on its standard input (see the package documentation).
type payload struct {
	ID       string        `json:"id"`
	Host     string        `json:"host"`
	Title    string        `json:"title"`
	Text     string        `json:"text"`
	Alerts   []model.Alert `json:"alerts"`
	Reminder bool          `json:"reminder"`
	Test     bool          `json:"test"`
	Time     string        `json:"time"`
}

// payloadJSON renders m as the payload document.
func payloadJSON(m model.AlertMessage) ([]byte, error) {
	p := payload{
		ID:       m.ID,
		Host:     m.Host,
		Title:    m.Title(),
		Text:     m.Text(),
		Alerts:   m.Alerts,
		Reminder: m.Reminder,
		Test:     m.Test,
		Time:     m.Time.UTC().Format(time.RFC3339),
	}
	if p.Alerts == nil {
		p.Alerts = []model.Alert{}
	}
	return marshalJSON(p)
}

// marshalJSON encodes v without Go's HTML escaping (< > & stay as they
// are: the documents go to APIs, not into web pages).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
