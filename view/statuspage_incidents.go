package view

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// statusIncidents are the open incidents and those resolved within
// status_page.past_days that involve a shown check, newest first, each
// with its public notes. Their own titles name internal checks ("web is
// down"), so the public title is built from the public names of the
// shown checks involved; host alerts, private notes, chat, who did what
// and resolution summaries stay inside.
func statusIncidents(in StatusInputs, shown []shownCheck) (open, past []ui.StatusIncident, err error) {
	sp := in.Config.StatusPage
	names := map[string]string{}
	for _, sc := range shown {
		names[sc.st.Name] = sp.CheckName(sc.st.Name)
	}
	var errs []error
	add := func(inc model.Incident, list *[]ui.StatusIncident) {
		pi, ok := publicIncident(inc, names)
		if !ok {
			return
		}
		ups, err := publicUpdates(in.Incidents, inc.ID)
		if err != nil {
			errs = append(errs, err)
		}
		pi.Updates = ups
		*list = append(*list, pi)
	}
	for _, inc := range in.Incidents.Open() {
		add(inc, &open)
	}
	if sp.PastDays > 0 {
		since := in.Now.Add(-time.Duration(sp.PastDays) * 24 * time.Hour)
		incs, lerr := in.Incidents.List(0, statusScan)
		if lerr != nil {
			errs = append(errs, fmt.Errorf("status page: incidents: %w", lerr))
		}
		for _, inc := range incs {
			if inc.IsOpen() || inc.Resolved.Before(since) || len(past) >= statusMaxPast {
				continue
			}
			add(inc, &past)
		}
	}
	return open, past, errors.Join(errs...)
}

// publicIncident is what the public sees of inc; false when it involves
// no shown check.
func publicIncident(inc model.Incident, names map[string]string) (ui.StatusIncident, bool) {
	var affected []string
	for _, c := range inc.Checks {
		if n, ok := names[c]; ok && !slices.Contains(affected, n) {
			affected = append(affected, n)
		}
	}
	if len(affected) == 0 {
		return ui.StatusIncident{}, false
	}
	what := strings.Join(affected[:min(len(affected), statusMaxNames)], ", ")
	if more := len(affected) - statusMaxNames; more > 0 {
		what += " and " + strconv.Itoa(more) + " more"
	}
	return ui.StatusIncident{ID: inc.ID, Title: "Service disruption: " + what, Open: inc.IsOpen(),
		Started: inc.Started, Resolved: inc.Resolved}, true
}

// publicUpdates are the incident's public notes, newest first (at most
// statusMaxUpdates); the rest of the timeline is never read into the view.
func publicUpdates(src StatusIncidents, id uint64) ([]ui.StatusUpdate, error) {
	var out []ui.StatusUpdate
	var after uint64
	for {
		es, err := src.Entries(id, after, statusEntryPage)
		if err != nil {
			return out, fmt.Errorf("status page: incident %d: %w", id, err)
		}
		for _, e := range es {
			after = max(after, e.Seq)
			if e.Kind == model.EntryNote && e.Public {
				out = append(out, ui.StatusUpdate{Time: e.Time, Text: e.Text})
			}
		}
		if len(es) < statusEntryPage {
			break
		}
	}
	slices.Reverse(out)
	if len(out) > statusMaxUpdates {
		out = out[:statusMaxUpdates]
	}
	return out, nil
}
