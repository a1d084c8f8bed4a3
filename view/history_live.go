package view

import (
	"bytes"
	"context"
	"strconv"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
)

// historyRoomPrefix starts the rooms of history pages.
const historyRoomPrefix = "history:"

// HistoryRoom is the room of the streams that show spec with axes at the
// browser offset tzo: they all get the same patches, so one feed serves
// them all.
func HistoryRoom(spec HistorySpec, tzo int) string {
	return historyRoomPrefix + spec.Group + ":" + spec.Range + ":" + strconv.Itoa(tzo) + ":" + spec.Item
}

// HistoryState is what a history page's stream gets on (re)connect: every
// chart, as of now and in the browser's own offset.
func HistoryState(ctx context.Context, v ui.HistoryView) []hub.Event {
	return []hub.Event{hub.PatchComponent(ctx, ui.HistoryCharts(v))}
}

// HistoryFeed remembers what a room was last sent and turns a fresh view
// into the patches that bring the room's pages to it: all charts when the
// settled part changed (a slot closed: the axes move on), else the edge
// layers when the open slot moved, else nothing. Not safe for concurrent
// use: one feed per room, driven by one goroutine.
type HistoryFeed struct {
	settled, edges []byte
}

// Next returns the patches for v (none when nothing changed) and how many
// bytes of HTML they carry.
func (f *HistoryFeed) Next(ctx context.Context, v ui.HistoryView) ([]hub.Event, int, error) {
	settled, err := renderHist(ctx, ui.HistoryCharts(histWithoutEdges(v)))
	if err != nil {
		return nil, 0, err
	}
	edges, err := renderHist(ctx, ui.HistoryEdges(v))
	if err != nil {
		return nil, 0, err
	}
	switch {
	case !bytes.Equal(settled, f.settled):
		all, err := renderHist(ctx, ui.HistoryCharts(v))
		if err != nil {
			return nil, 0, err
		}
		f.settled, f.edges = settled, edges
		return []hub.Event{hub.PatchElements(string(all))}, len(all), nil
	case !bytes.Equal(edges, f.edges):
		f.edges = edges
		return []hub.Event{hub.PatchElements(string(edges))}, len(edges), nil
	}
	return nil, 0, nil
}

// histWithoutEdges is v with every chart's open slot left out.
func histWithoutEdges(v ui.HistoryView) ui.HistoryView {
	cs := make([]ui.HistoryChart, len(v.Charts))
	for i, c := range v.Charts {
		c.Edge = ui.HistoryEdge{}
		cs[i] = c
	}
	v.Charts = cs
	return v
}

func renderHist(ctx context.Context, c templ.Component) ([]byte, error) {
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
