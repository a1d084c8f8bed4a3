package view

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// RoomStatus is the hub room of the public status page's streams.
const RoomStatus = "status"

// Status page bounds: what one build reads and shows at most.
const (
	statusDays       = 90  // bars per check
	statusScan       = 200 // incidents scanned for the past ones
	statusMaxPast    = 50  // past incidents shown
	statusMaxUpdates = 50  // public updates shown per incident
	statusMaxNames   = 5   // affected services named in a title
	statusMaxReason  = 200 // bytes of a shown reason
	// statusEntryPage is how many timeline entries one read takes while
	// looking for public notes (incident.MaxEntries is 10,000).
	statusEntryPage = 5000
)

// StatusUptime is the history the status page reads: daily uptime.
type StatusUptime interface {
	UptimeDaily(check string, days int) ([]storage.DayUptime, error)
}

// StatusIncidents is what the status page reads of incidents (an
// *incident.Manager): the open ones from memory, the past ones and the
// notes from storage.
type StatusIncidents interface {
	Open() []model.Incident
	List(before uint64, limit int) ([]model.Incident, error)
	Entries(id, after uint64, limit int) ([]model.IncidentEntry, error)
}

// StatusInputs are what one status page build reads.
type StatusInputs struct {
	Config    *config.Config
	Checks    []collectors.Status // live state (collectors.Runner.Statuses)
	Uptime    StatusUptime
	Incidents StatusIncidents
	Now       time.Time
}

// StatusPage builds the public status page from the configuration in force
// (status_page:) and the live state. Only the chosen checks appear, under
// their public names; reasons only when allowed; incidents only when they
// involve a shown check, with their public notes and nothing else of their
// timeline. A failed read leaves its part empty (no bars, no incidents) and
// is returned joined, so the caller can log it and still serve the page.
func StatusPage(in StatusInputs) (ui.StatusPageView, error) {
	sp := in.Config.StatusPage
	now := in.Now
	v := ui.StatusPageView{Title: sp.PageTitle(), Description: sp.Description, Footer: sp.Footer, Path: sp.Path,
		PastDays: sp.PastDays, Updated: now.UTC().Truncate(time.Minute)}
	shown := shownChecks(in.Config, in.Checks)
	maint, inMaint := statusMaintenance(in.Config, shown, now)
	v.Maintenance = maint
	var errs []error
	groupAt := map[string]int{}
	for n, sc := range shown {
		c := statusCheck(sp, sc.st, inMaint[sc.st.Name])
		c.ID = "sp-check-" + strconv.Itoa(n+1)
		days, err := in.Uptime.UptimeDaily(sc.st.Name, statusDays)
		if err != nil {
			errs = append(errs, fmt.Errorf("status page: uptime of %q: %w", sc.st.Name, err))
		}
		c.Days, c.Uptime = statusBars(days)
		i, ok := groupAt[sc.st.Group]
		if !ok {
			i = len(v.Groups)
			groupAt[sc.st.Group] = i
			v.Groups = append(v.Groups, ui.StatusGroup{ID: "sp-group-" + strconv.Itoa(i+1), Name: sp.GroupName(sc.st.Group)})
		}
		v.Groups[i].Checks = append(v.Groups[i].Checks, c)
	}
	v.Banner = statusBanner(v.Groups)
	open, past, err := statusIncidents(in, shown)
	if err != nil {
		errs = append(errs, err)
	}
	v.Open, v.Past = open, past
	return v, errors.Join(errs...)
}

// shownCheck is a check on the page, in page order.
type shownCheck struct {
	st collectors.Status
}

// shownChecks are the chosen checks in page order: the groups as listed in
// status_page.groups, then the groups of checks named on their own, in the
// order of the configuration; within a group, the configuration's order.
// A chosen check without live state yet shows as unknown.
func shownChecks(cfg *config.Config, statuses []collectors.Status) []shownCheck {
	sp := cfg.StatusPage
	live := make(map[string]collectors.Status, len(statuses))
	for _, st := range statuses {
		live[st.Name] = st
	}
	rank := map[string]int{}
	for i, g := range sp.Groups {
		if _, ok := rank[g]; !ok {
			rank[g] = i
		}
	}
	var out []shownCheck
	for _, c := range cfg.Checks {
		if !sp.Shows(c.Name, c.Group) {
			continue
		}
		st, ok := live[c.Name]
		if !ok {
			st = collectors.Status{Name: c.Name, Group: c.Group, State: model.StateUnknown}
		}
		st.Group = c.Group // the configuration in force decides the page
		if _, ok := rank[c.Group]; !ok {
			rank[c.Group] = len(sp.Groups) + len(rank)
		}
		out = append(out, shownCheck{st: st})
	}
	slices.SortStableFunc(out, func(a, b shownCheck) int { return cmp.Compare(rank[a.st.Group], rank[b.st.Group]) })
	return out
}

// statusCheck is one check's row without its bars.
func statusCheck(sp config.StatusPage, st collectors.Status, maint bool) ui.StatusCheck {
	c := ui.StatusCheck{Name: sp.CheckName(st.Name)}
	switch {
	case maint:
		c.Level, c.Label = ui.StatusMaint, "Under maintenance"
	case st.State == model.StateUp:
		c.Level, c.Label = ui.StatusOK, "Operational"
	case st.State == model.StateDegraded:
		c.Level, c.Label = ui.StatusDegr, "Degraded performance"
	case st.State == model.StateDown:
		c.Level, c.Label = ui.StatusMajor, "Outage"
	default:
		c.Level, c.Label = ui.StatusPending, "No data yet"
	}
	if sp.ShowReasons && !maint && (st.State == model.StateDown || st.State == model.StateDegraded) {
		c.Reason = clipText(st.Reason, statusMaxReason)
	}
	return c
}

// statusBars turns daily counts into bars and their sum: the share of
// known results that were up or degraded (the service answered), as on
// the check page. A day without results is grey; the sum says "since" the
// first day with data when that is within the 90 days.
func statusBars(days []storage.DayUptime) ([]ui.StatusDay, string) {
	out := make([]ui.StatusDay, 0, len(days))
	var sum storage.UptimeStats
	var first time.Time
	for _, d := range days {
		date := d.Day.UTC().Format("2006-01-02")
		if d.Known() == 0 {
			out = append(out, ui.StatusDay{Class: "d-none", Title: date + ": no data"})
			continue
		}
		if first.IsZero() {
			first = d.Day
		}
		sum.Up += d.Up
		sum.Degraded += d.Degraded
		sum.Down += d.Down
		pct := 100 * d.Availability()
		out = append(out, ui.StatusDay{Class: dayClass(pct), Title: date + ": " + formatPct(pct) + " up"})
	}
	if sum.Known() == 0 {
		return out, "No data yet"
	}
	label := formatPct(100*sum.Availability()) + " uptime"
	if len(days) > 0 && first.After(days[0].Day) {
		return out, label + " since " + first.UTC().Format("2006-01-02")
	}
	return out, label
}

func dayClass(pct float64) string {
	switch {
	case pct >= 100:
		return "d-100"
	case pct >= 99:
		return "d-99"
	case pct >= 95:
		return "d-95"
	}
	return "d-low"
}

// formatPct shows a percentage to two decimals, rounded down, so that
// anything short of all is never shown as 100%.
func formatPct(pct float64) string {
	if pct >= 100 {
		return "100%"
	}
	return strconv.FormatFloat(math.Floor(pct*100)/100, 'f', 2, 64) + "%"
}

// statusBanner is the overall line: checks under maintenance count as
// neither up nor down.
func statusBanner(groups []ui.StatusGroup) ui.StatusBanner {
	var total, down, degraded, maint, known int
	for _, g := range groups {
		for _, c := range g.Checks {
			switch c.Level {
			case ui.StatusMaint:
				maint++
				continue
			case ui.StatusMajor:
				down++
			case ui.StatusDegr:
				degraded++
			}
			total++
			if c.Level != ui.StatusPending {
				known++
			}
		}
	}
	switch {
	case down > 0 && down == total:
		return ui.StatusBanner{Level: ui.StatusMajor, Text: "Major outage"}
	case down > 0:
		return ui.StatusBanner{Level: ui.StatusPartial, Text: "Partial outage"}
	case degraded > 0:
		return ui.StatusBanner{Level: ui.StatusDegr, Text: "Degraded performance"}
	case maint > 0:
		return ui.StatusBanner{Level: ui.StatusMaint, Text: "Scheduled maintenance in progress"}
	case known == 0:
		return ui.StatusBanner{Level: ui.StatusPending, Text: "Waiting for the first results"}
	}
	return ui.StatusBanner{Level: ui.StatusOK, Text: "All systems operational"}
}

// clipText cuts s to at most n bytes (whole runes) with an ellipsis.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(strings.ToValidUTF8(s[:n], "")) + "…"
}
