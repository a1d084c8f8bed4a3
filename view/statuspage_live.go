package view

import (
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// StatusKey fingerprints what a status page build depends on, apart from
// history that only moves with time: the configuration in force (its
// identity: every reload is a new one), the shown checks' state (and
// reason, when shown), the open incidents' versions (their entry counts
// move with every note), and the minute (bars, maintenance, the past
// incidents' window). Equal keys mean an equal page, so a cached page
// is served while its key holds. It reads only memory.
func StatusKey(cfg *config.Config, statuses []collectors.Status, open []model.Incident, now time.Time) uint64 {
	h := fnv.New64a()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	w(strconv.FormatUint(uint64(reflect.ValueOf(cfg).Pointer()), 16), strconv.FormatInt(now.Unix()/60, 10))
	sp := cfg.StatusPage
	for _, st := range statuses {
		if !sp.Shows(st.Name, st.Group) {
			continue
		}
		w(st.Name, st.Group, st.State.String())
		if sp.ShowReasons {
			w(st.Reason)
		}
	}
	for _, inc := range open {
		w(strconv.FormatUint(inc.ID, 10), string(inc.State), strconv.FormatUint(inc.Entries, 10), inc.Updated.String())
	}
	return h.Sum64()
}

// StatusSent is what a status page's streams were last sent: the HTML of
// each live part by element id, and the page's layout.
type StatusSent struct {
	layout string
	parts  map[string]string
}

// StatusState is the whole live part of the page, sent to every stream
// that (re)connects.
func StatusState(ctx context.Context, v ui.StatusPageView) ([]hub.Event, error) {
	html, err := renderString(ctx, ui.StatusMain(v))
	if err != nil {
		return nil, err
	}
	return []hub.Event{hub.PatchElements(html)}, nil
}

// StatusPatches returns the patches that bring pages showing sent to v,
// and what they show then: the parts that changed, each morphed into its
// element (a check's row, the banner, the incident lists), or the whole
// main part when the layout changed (groups, checks, names, past days).
// Nothing when nothing changed.
func StatusPatches(ctx context.Context, v ui.StatusPageView, sent StatusSent) ([]hub.Event, StatusSent, error) {
	next := StatusSent{layout: statusLayout(v), parts: map[string]string{}}
	comps := []struct {
		id string
		c  templ.Component
	}{
		{ui.StatusBannerID, ui.StatusBannerBox(v.Banner)},
		{ui.StatusOpenID, ui.StatusOpenList(v)},
		{ui.StatusMaintenanceID, ui.StatusMaintenanceList(v)},
		{ui.StatusPastID, ui.StatusPastList(v)},
		{ui.StatusUpdatedID, ui.StatusUpdatedLine(v)},
	}
	for _, g := range v.Groups {
		for _, c := range g.Checks {
			comps = append(comps, struct {
				id string
				c  templ.Component
			}{c.ID, ui.StatusCheckRow(c)})
		}
	}
	var changed strings.Builder
	for _, p := range comps {
		html, err := renderString(ctx, p.c)
		if err != nil {
			return nil, sent, err
		}
		next.parts[p.id] = html
		if sent.parts[p.id] != html {
			changed.WriteString(html)
			changed.WriteByte('\n')
		}
	}
	if next.layout != sent.layout {
		evs, err := StatusState(ctx, v)
		return evs, next, err
	}
	if changed.Len() == 0 {
		return nil, next, nil
	}
	return []hub.Event{hub.PatchElements(strings.TrimSuffix(changed.String(), "\n"))}, next, nil
}

// statusLayout names what the page's structure depends on.
func statusLayout(v ui.StatusPageView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%d", v.Path, v.PastDays)
	for _, g := range v.Groups {
		b.WriteString("\x00g" + g.ID + "\x00" + g.Name)
		for _, c := range g.Checks {
			b.WriteString("\x00c" + c.ID)
		}
	}
	return b.String()
}

func renderString(ctx context.Context, c templ.Component) (string, error) {
	var sb strings.Builder
	if err := c.Render(ctx, &sb); err != nil {
		return "", fmt.Errorf("status page: render: %w", err)
	}
	return sb.String(), nil
}
