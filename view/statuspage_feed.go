package view

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/ui"
)

// Atom 1.0 (RFC 4287) of the status page's incidents: one entry per
// incident on the page (open and past), whose content is its public
// updates. Nothing else goes in: the view model holds nothing else.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Summary   atomText `xml:"summary"`
	Content   atomText `xml:"content"`
}

// StatusFeed renders the Atom feed of v's incidents. base is dashd's
// address as people reach it (alerts.external_url): with it the ids and
// links are absolute URLs; without it the links are relative to the feed
// and the ids URNs. since dates an empty feed (dashd's start), so its
// bytes do not change at every build.
func StatusFeed(v ui.StatusPageView, base string, since time.Time) ([]byte, error) {
	base = strings.TrimSuffix(base, "/")
	page := base + v.Path
	id := "urn:dashd:status-page"
	if base != "" {
		id = page
	}
	f := atomFeed{ID: id, Title: v.Title, Author: atomPerson{Name: v.Title},
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + v.FeedURL()},
			{Rel: "alternate", Type: "text/html", Href: page}}}
	newest := since
	for _, list := range [][]ui.StatusIncident{v.Open, v.Past} {
		for _, inc := range list {
			e := feedEntry(inc, id, page)
			if u := entryUpdated(inc); u.After(newest) {
				newest = u
			}
			f.Entries = append(f.Entries, e)
		}
	}
	f.Updated = atomTime(newest)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("status feed: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func feedEntry(inc ui.StatusIncident, feedID, page string) atomEntry {
	id := feedID + ":incident:" + strconv.FormatUint(inc.ID, 10)
	if strings.Contains(feedID, "://") {
		id = feedID + "#" + inc.Anchor()
	}
	state := "Ongoing since " + atomTime(inc.Started)
	if !inc.Open {
		state = "Resolved " + atomTime(inc.Resolved) + " (started " + atomTime(inc.Started) + ")"
	}
	var content strings.Builder
	content.WriteString(state)
	for _, u := range inc.Updates {
		content.WriteString("\n\n" + atomTime(u.Time) + "\n" + u.Text)
	}
	return atomEntry{ID: id, Title: inc.Title, Updated: atomTime(entryUpdated(inc)), Published: atomTime(inc.Started),
		Link:    atomLink{Rel: "alternate", Type: "text/html", Href: page + "#" + inc.Anchor()},
		Summary: atomText{Type: "text", Body: state}, Content: atomText{Type: "text", Body: content.String()}}
}

// entryUpdated is the last public change of an incident: its start, its
// resolution, its newest public update (private activity does not show).
func entryUpdated(inc ui.StatusIncident) time.Time {
	t := inc.Started
	if inc.Resolved.After(t) {
		t = inc.Resolved
	}
	for _, u := range inc.Updates {
		if u.Time.After(t) {
			t = u.Time
		}
	}
	return t
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
