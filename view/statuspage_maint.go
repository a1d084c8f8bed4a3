package view

import (
	"path"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/ui"
)

// statusMaintHorizon is how far ahead planned maintenance is listed.
const statusMaintHorizon = 30 * 24 * time.Hour

// statusMaintenance lists the maintenance windows (alerts.maintenance)
// that cover a shown check, going on or starting within the horizon,
// soonest first, and which shown checks are under maintenance now. A
// window for rules only (host alerts) covers no check, as in the alerter.
func statusMaintenance(cfg *config.Config, shown []shownCheck, now time.Time) ([]ui.StatusMaintenance, map[string]bool) {
	sp := cfg.StatusPage
	var out []ui.StatusMaintenance
	active := map[string]bool{}
	for _, m := range cfg.Alerts.Maintenance {
		var names []string
		var covered []string
		for _, sc := range shown {
			if maintCovers(m, sc.st.Name, sc.st.Group) {
				names = append(names, sp.CheckName(sc.st.Name))
				covered = append(covered, sc.st.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		from, to, ok := nextOccurrence(m, now)
		if !ok || from.Sub(now) > statusMaintHorizon {
			continue
		}
		on := !now.Before(from) && now.Before(to)
		if on {
			for _, c := range covered {
				active[c] = true
			}
		}
		out = append(out, ui.StatusMaintenance{Name: m.Name, From: from, To: to, Active: on, Affected: strings.Join(names, ", ")})
	}
	slices.SortStableFunc(out, func(a, b ui.StatusMaintenance) int { return a.From.Compare(b.From) })
	return out, active
}

// maintCovers reports whether window m holds back a check's alerts (the
// alerter's matching: each matcher set must match; rules match no check).
func maintCovers(m config.Maintenance, check, group string) bool {
	return len(m.Rules) == 0 && (len(m.Checks) == 0 || anyMatch(m.Checks, check)) &&
		(len(m.Groups) == 0 || anyMatch(m.Groups, group))
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// nextOccurrence is the occurrence of m that is going on at now or starts
// next (a recurring window within the coming week); false when there is
// none (a one-off window that ended).
func nextOccurrence(m config.Maintenance, now time.Time) (from, to time.Time, ok bool) {
	if !m.Recurring {
		return m.FromTime, m.ToTime, now.Before(m.ToTime)
	}
	loc := m.Loc
	if loc == nil {
		loc = time.UTC
	}
	lt := now.In(loc)
	for d := -1; d <= 7; d++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+d, 0, 0, 0, 0, loc)
		if !m.Days[day.Weekday()] {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), m.StartMin/60, m.StartMin%60, 0, 0, loc)
		endDay := day.Day()
		if m.EndMin <= m.StartMin {
			endDay++ // wraps past midnight: ends the next day
		}
		end := time.Date(day.Year(), day.Month(), endDay, m.EndMin/60, m.EndMin%60, 0, 0, loc)
		if now.Before(end) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// NextStatusChange is the next moment a maintenance window that covers
// a shown check starts or ends after now, bounded by limit: the status
// page's publisher wakes then, so the page says "under maintenance" on
// time.
func NextStatusChange(cfg *config.Config, shown func(check, group string) bool, now, limit time.Time) time.Time {
	next := limit
	for _, m := range cfg.Alerts.Maintenance {
		covers := false
		for _, c := range cfg.Checks {
			if shown(c.Name, c.Group) && maintCovers(m, c.Name, c.Group) {
				covers = true
				break
			}
		}
		if !covers {
			continue
		}
		from, to, ok := nextOccurrence(m, now)
		if !ok {
			continue
		}
		for _, t := range []time.Time{from, to} {
			if t.After(now) && t.Before(next) {
				next = t
			}
		}
	}
	return next
}
