package main

// Reading the fleet overview's stream as a browser's Datastar client does:
// Server-Sent Events (readSSE), the HTML of its datastar-merge-fragments
// events (fragmentsOf), and the host tiles in that HTML (parseTiles). Pure
// functions over bytes, tested from a recorded stream in testdata/.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// sseEvent is one Server-Sent Event: its type and its data lines, in order.
type sseEvent struct {
	name string
	data []string
}

// errSSETooLarge is returned when one event is over readSSE's bound.
var errSSETooLarge = errors.New("event over the size bound")

// readSSE calls fn with every event r carries until r ends (io.EOF is
// returned as nil) or fn fails. Comment lines (": ping") are skipped; an
// event whose lines add up to more than limit bytes is an error: the stream
// is the hub's, but a bench must not grow without bound either.
func readSSE(r io.Reader, limit int, fn func(sseEvent) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var ev sseEvent
	size := 0
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		size += len(chunk)
		if size > limit {
			return fmt.Errorf("sse: %w (%d bytes)", errSSETooLarge, limit)
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("sse: %w", err)
		}
		text := string(bytes.TrimRight(line, "\r\n"))
		line = line[:0]
		if text == "" {
			if ev.name != "" || len(ev.data) > 0 {
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, size = sseEvent{}, 0
			continue
		}
		field, value, _ := strings.Cut(text, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "": // a comment
		case "event":
			ev.name = value
		case "data":
			ev.data = append(ev.data, value)
		}
	}
}

// fragmentsOf is the HTML a datastar-merge-fragments event carries (its
// "fragments" data lines joined by newlines), ok false for other events.
func fragmentsOf(ev sseEvent) (string, bool) {
	if ev.name != "datastar-merge-fragments" {
		return "", false
	}
	var b strings.Builder
	n := 0
	for _, d := range ev.data {
		if v, ok := strings.CutPrefix(d, "fragments "); ok {
			if n > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(v)
			n++
		}
	}
	return b.String(), n > 0
}

// tileFigures is what the bench reads of one host's tile (ui.FleetTileItem).
type tileFigures struct {
	host        string
	cpu, mem    int  // whole percent shown, -1 when the tile shows none
	checksDown  bool // "N of M checks down"
	unreachable bool // the "Unreachable" pill
}

// parseTiles finds every host tile in an overview fragment: the whole grid
// or one tile. A tile starts at its data-host attribute and runs to the next
// one (the label chips inside it carry none).
func parseTiles(fragment string) []tileFigures {
	const mark = `data-host="`
	var out []tileFigures
	rest := fragment
	for {
		i := strings.Index(rest, mark)
		if i < 0 {
			return out
		}
		rest = rest[i+len(mark):]
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			return out
		}
		t := tileFigures{host: html.UnescapeString(rest[:end])}
		body := rest[end:]
		if next := strings.Index(body, mark); next >= 0 {
			body = body[:next]
		}
		t.cpu = pctAfter(body, ">CPU ")
		t.mem = pctAfter(body, ">Mem ")
		t.checksDown = strings.Contains(body, " checks down<")
		t.unreachable = strings.Contains(body, ">Unreachable<")
		out = append(out, t)
	}
}

// pctAfter is the whole percentage following label in s ("CPU 43%" is 43),
// -1 when there is none.
func pctAfter(s, label string) int {
	i := strings.Index(s, label)
	if i < 0 {
		return -1
	}
	s = s[i+len(label):]
	end := strings.IndexByte(s, '%')
	if end < 0 {
		return -1
	}
	v, err := strconv.Atoi(s[:end])
	if err != nil {
		return -1
	}
	return v
}
