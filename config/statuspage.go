package config

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// StatusPage is the public status page (status_page:): what the outside
// world may see of the checks the operator chooses, under public names.
//
// # Who sees it
//
// Enabled decides whether the page exists at all: false (the default)
// answers 404 at Path, whatever auth.public says. When enabled, auth.public
// decides who may read it: with "status" listed anyone may, without a
// session (the page, its Atom feed and its live stream); otherwise it is
// read like the dashboard, by signed-in viewers (everyone who can reach
// dashd in auth mode none).
//
// # What it shows
//
// The checks of Groups and the checks named in Checks (at least one of
// the two), grouped by their group, under the names of Names and
// GroupNames (their own names otherwise). Nothing else: no host, no
// target, no process, no chat, no private note, and no check's reason
// unless ShowReasons. Open and past incidents appear when they involve a
// shown check, with their public notes only.
//
// # Reloads
//
// Everything but Path follows a reload; Path is where the routes are
// registered, so it changes on restart (RestartRequired).
type StatusPage struct {
	// Enabled serves the page (default false).
	Enabled bool `yaml:"enabled"`
	// Title heads the page and its feed (default "Service status"; the
	// host name is never used, so the page names no machine).
	Title string `yaml:"title"`
	// Path is where the page is served (default /status); the feed is
	// Path/feed.atom and the live stream Path/events.
	Path string `yaml:"path"`
	// Description is a paragraph under the title; Footer a line at the
	// bottom (contact, terms). Plain text.
	Description string `yaml:"description"`
	Footer      string `yaml:"footer"`
	// Groups shows every check of these groups; Checks these checks.
	Groups []string `yaml:"groups"`
	Checks []string `yaml:"checks"`
	// Names maps check names to the names the public sees; GroupNames
	// does the same for groups (a check and a group often share a name,
	// so they are two maps).
	Names      map[string]string `yaml:"names"`
	GroupNames map[string]string `yaml:"group_names"`
	// ShowReasons shows why a check is not up ("connection refused",
	// "status 503"): off by default, because reasons may name internal
	// hosts and addresses.
	ShowReasons bool `yaml:"show_reasons"`
	// PastDays is how far back resolved incidents are listed (default 14,
	// 0 lists none, at most 90).
	PastDays int `yaml:"past_days"`
}

// Status page defaults and bounds.
const (
	DefaultStatusPath  = "/status"
	DefaultStatusTitle = "Service status"
	DefaultPastDays    = 14
	maxStatusText      = 2000 // description, footer
	maxStatusName      = 100  // title, public names
)

// DefaultStatusPage is the page when the file says nothing: off.
func DefaultStatusPage() StatusPage {
	return StatusPage{Path: DefaultStatusPath, PastDays: DefaultPastDays}
}

// ReservedPaths are the first path segments of dashd's own routes: a
// status page path under one of them would be shadowed by (or shadow) a
// route of dashd's. The server's tests keep this list complete.
func ReservedPaths() []string {
	return []string{"alerts", "api", "audit", "auth", "badge", "chat", "checks", "healthz", "host", "hosts",
		"incidents", "licenses", "login", "logout", "metrics", "readyz", "static"}
}

// PageTitle is the title to show (Title, or the default).
func (p StatusPage) PageTitle() string {
	if p.Title == "" {
		return DefaultStatusTitle
	}
	return p.Title
}

// Shows reports whether the check (in group) is on the page.
func (p StatusPage) Shows(check, group string) bool {
	for _, c := range p.Checks {
		if c == check {
			return true
		}
	}
	if group == "" {
		return false
	}
	for _, g := range p.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// CheckName is the public name of a check.
func (p StatusPage) CheckName(check string) string {
	if n := p.Names[check]; n != "" {
		return n
	}
	return check
}

// GroupName is the public name of a group ("Services" for checks
// without one).
func (p StatusPage) GroupName(group string) string {
	if n := p.GroupNames[group]; n != "" {
		return n
	}
	if group == "" {
		return "Services"
	}
	return group
}

func (p StatusPage) validate(sc Scope, checks []Check) {
	byName := map[string]Check{}
	groups := map[string]bool{}
	var checkNames, groupNames []string
	for _, c := range checks {
		byName[c.Name] = c
		checkNames = append(checkNames, c.Name)
		if c.Group != "" && !groups[c.Group] {
			groups[c.Group] = true
			groupNames = append(groupNames, c.Group)
		}
	}
	sort.Strings(checkNames)
	sort.Strings(groupNames)
	p.validatePath(sc)
	textLen(sc, "title", p.Title, maxStatusName)
	textLen(sc, "description", p.Description, maxStatusText)
	textLen(sc, "footer", p.Footer, maxStatusText)
	if p.PastDays < 0 || p.PastDays > 90 {
		sc.Errorf("past_days", "must be between 0 and 90, got %d", p.PastDays)
	}
	for i, g := range p.Groups {
		if !groups[g] {
			sc.Index("groups", i).Errorf("", "%s", unknownName("group", g, groupNames))
		}
	}
	for i, c := range p.Checks {
		if _, ok := byName[c]; !ok {
			sc.Index("checks", i).Errorf("", "%s", unknownName("check", c, checkNames))
		}
	}
	if p.Enabled && len(p.Groups) == 0 && len(p.Checks) == 0 {
		sc.Errorf("enabled", "an enabled status page needs groups or checks: the ones the public may see")
	}
	ns := sc.Child("names")
	for _, name := range sortedKeys(p.Names) {
		c, ok := byName[name]
		switch {
		case !ok:
			ns.Errorf(name, "%s", unknownName("check", name, checkNames))
		case !p.Shows(c.Name, c.Group):
			ns.Errorf(name, "check %q is not on the status page (add it to checks, or its group %q to groups)", name, c.Group)
		default:
			publicName(ns, name, p.Names[name])
		}
	}
	gs := sc.Child("group_names")
	for _, g := range sortedKeys(p.GroupNames) {
		if !groups[g] {
			gs.Errorf(g, "%s", unknownName("group", g, groupNames))
			continue
		}
		publicName(gs, g, p.GroupNames[g])
	}
}

// validatePath keeps Path a plain path of its own: it names a fiber route,
// so no parameters or wildcards, and no route of dashd's.
func (p StatusPage) validatePath(sc Scope) {
	path := p.Path
	switch {
	case !strings.HasPrefix(path, "/"):
		sc.Errorf("path", "must start with \"/\", got %q", path)
		return
	case path == "/":
		sc.Errorf("path", "\"/\" is the dashboard: choose a path such as /status")
		return
	case len(path) > 100:
		sc.Errorf("path", "longer than 100 bytes")
		return
	case strings.HasSuffix(path, "/") || strings.Contains(path, "//"):
		sc.Errorf("path", "%q: no empty segments or trailing \"/\"", path)
		return
	}
	for _, seg := range strings.Split(path[1:], "/") {
		if seg == "." || seg == ".." {
			sc.Errorf("path", "%q: no \".\" or \"..\" segments", path)
			return
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				sc.Errorf("path", "%q: letters, digits, '-', '_', '.' and '/' only", path)
				return
			}
		}
	}
	first, _, _ := strings.Cut(path[1:], "/")
	for _, r := range ReservedPaths() {
		if strings.EqualFold(first, r) {
			sc.Errorf("path", "%q collides with dashd's own /%s routes: choose another path such as /status", path, r)
			return
		}
	}
}

func textLen(sc Scope, key, v string, max int) {
	if len(v) > max {
		sc.Errorf(key, "longer than %d bytes", max)
	}
	if !utf8.ValidString(v) {
		sc.Errorf(key, "is not valid UTF-8")
	}
}

func publicName(sc Scope, key, v string) {
	if strings.TrimSpace(v) == "" {
		sc.Errorf(key, "must not be empty")
		return
	}
	textLen(sc, key, v, maxStatusName)
}

// unknownName says a status page entry names no configured check or group.
func unknownName(kind, name string, known []string) string {
	switch s := suggest(name, known); {
	case len(known) == 0:
		return fmt.Sprintf("unknown %s %q (no check has one)", kind, name)
	case s != "":
		return fmt.Sprintf("unknown %s %q (did you mean %q?)", kind, name, s)
	}
	return fmt.Sprintf("unknown %s %q (%ss: %s)", kind, name, kind, strings.Join(known, ", "))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
