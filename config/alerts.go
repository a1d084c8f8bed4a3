package config

import (
	"maps"
	"net/url"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Alerts configures what dashd tells people outside the browser: the
// channels messages go to, the routes that pick channels, the host metric
// rules, and the maintenance windows when nothing goes out.
type Alerts struct {
	// ExternalURL is dashd's address as people reach it, for the links in
	// messages ("https://dash.example.org"); empty: messages carry no link.
	ExternalURL string `yaml:"external_url"`
	// GroupWait gathers the changes that happen within it into one message
	// per channel (an outage of a shared dependency is one message, not
	// forty). 0 sends each change on its own, at once.
	GroupWait Duration `yaml:"group_wait"`
	// RepeatInterval reminds of a problem that lasts; 0 never reminds.
	RepeatInterval Duration `yaml:"repeat_interval"`
	// SendResolved sends a message when a problem ends (default true;
	// routes may override it).
	SendResolved bool `yaml:"send_resolved"`
	// MaxAge is how long a message is retried before it is given up and
	// shown as failed (default 24h).
	MaxAge Duration `yaml:"max_age"`

	Channels    []Channel     `yaml:"channels,custom"`
	Routes      []Route       `yaml:"routes"`
	Rules       []Rule        `yaml:"rules"`
	Maintenance []Maintenance `yaml:"maintenance"`
}

// DefaultAlerts is the alerting configuration when the file says nothing:
// no channels, so nothing is sent.
func DefaultAlerts() Alerts {
	return Alerts{
		GroupWait:      Duration(5 * time.Second),
		RepeatInterval: Duration(4 * time.Hour),
		SendResolved:   true,
		MaxAge:         Duration(24 * time.Hour),
	}
}

// ChannelSpec is the type-specific part of a channel (a webhook's URL and
// headers, an email channel's server and recipients). The alert channel
// package defines one struct per type; Validate reports through the Scope.
type ChannelSpec interface {
	Validate(s Scope)
}

// ChannelTypes maps a channel type name to a constructor of its spec.
type ChannelTypes map[string]func() ChannelSpec

// Channel is one configured destination of alert messages. Its
// type-specific keys sit next to the common ones.
type Channel struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout Duration `yaml:"timeout"`
	// MaxPerHour caps the messages sent to the channel in any hour
	// (default 60); beyond it messages wait in the outbox.
	MaxPerHour int `yaml:"max_per_hour"`

	Spec   ChannelSpec `yaml:"-"`
	Line   int         `yaml:"-"`
	Column int         `yaml:"-"`
}

// Default channel settings.
const (
	DefaultChannelTimeout = 10 * time.Second
	DefaultMaxPerHour     = 60
)

// Severities, from the most urgent.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Severities lists the severity names in order, most urgent first.
func Severities() []string { return []string{SeverityCritical, SeverityWarning, SeverityInfo} }

// Route sends the alerts it matches to its channels. An alert matches when
// every selector the route sets matches (checks by name glob, groups, check
// types, rules by name glob) and it passes every filter the route sets:
// its severity is listed, its host matches a Hosts glob, each of Labels
// matches. Every matching route applies; a channel gets one message per
// change however many routes name it.
type Route struct {
	Checks     []string `yaml:"checks"`
	Groups     []string `yaml:"groups"`
	Types      []string `yaml:"types"`
	Rules      []string `yaml:"rules"`
	Severities []string `yaml:"severities"`
	// Hosts narrows the route to alerts about some hosts, by glob on the
	// alert's host label: a fleet host's name (an agent's fleet.host) for
	// the alerts a hub raises about its agents, this dashd's own host name
	// for its own alerts. A hub routes per host without one route per
	// agent ("web-*" to the web team).
	Hosts []string `yaml:"hosts"`
	// Labels narrows the route to alerts whose labels match: every label
	// listed must be on the alert and its value match the glob. A fleet
	// host's alerts carry the labels of its hello (env, role...) besides
	// their own (host, check, group, type, rule, severity, mountpoint,
	// interface), so {env: prod} takes production hosts only.
	Labels   map[string]string `yaml:"labels"`
	Channels []string          `yaml:"channels"`
	// SendResolved overrides alerts.send_resolved for this route.
	SendResolved *bool `yaml:"send_resolved"`
}

// Rule is a host metric rule: the metric crossing a threshold for a while.
type Rule struct {
	Name   string `yaml:"name"`
	Metric string `yaml:"metric"`
	// Above or Below is the threshold (exactly one, except for fs_full_in).
	Above *float64 `yaml:"above"`
	Below *float64 `yaml:"below"`
	// Clear is the value the metric must come back past to resolve
	// (hysteresis); default the threshold itself.
	Clear *float64 `yaml:"clear"`
	// For is how long the condition must hold before the alert fires.
	For Duration `yaml:"for"`
	// Within is, for fs_full_in, how soon a filesystem must be predicted
	// to fill (default 24h); Window the history the prediction fits
	// (default 6h).
	Within   Duration `yaml:"within"`
	Window   Duration `yaml:"window"`
	Severity string   `yaml:"severity"`
	// Disabled turns the rule off (a shipped rule you do not want).
	Disabled bool `yaml:"disabled"`
	// Overrides change the rule for the filesystems or interfaces their
	// glob matches; the first matching override wins.
	Overrides []RuleOverride `yaml:"overrides"`
}

// RuleOverride changes a rule for some filesystems (mount point globs) or
// interfaces (name globs).
type RuleOverride struct {
	Match    string    `yaml:"match"`
	Above    *float64  `yaml:"above"`
	Below    *float64  `yaml:"below"`
	Clear    *float64  `yaml:"clear"`
	For      *Duration `yaml:"for"`
	Disabled bool      `yaml:"disabled"`
}

// RuleMetric describes a metric host rules can watch.
type RuleMetric struct {
	Name string
	// Per is what the metric is per: "" (the host), "filesystem" or
	// "interface"; overrides match on it.
	Per  string
	Unit string
	Help string
}

// RuleMetrics is the one list of metrics a rule may name.
func RuleMetrics() []RuleMetric {
	return []RuleMetric{
		{"cpu", "", "%", "CPU busy, all cores"},
		{"memory_available", "", "%", "memory available"},
		{"swap_used", "", "%", "swap in use"},
		{"load_per_core", "", "", "1-minute load divided by the number of cores"},
		{"fs_used", "filesystem", "%", "space used"},
		{"fs_inodes_used", "filesystem", "%", "inodes used"},
		{"fs_full_in", "filesystem", "", "predicted time until the filesystem is full (linear fit)"},
		{"net_errors", "interface", "/s", "receive and transmit errors per second"},
	}
}

// Maintenance is a window in which no alert goes out and uptime is not
// counted: one-off (From, To) or recurring (Start, End on Weekdays, every
// day when empty), in TimeZone. Checks, Groups and Rules narrow it (all
// when empty).
type Maintenance struct {
	Name     string   `yaml:"name"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Weekdays []string `yaml:"weekdays"`
	Start    string   `yaml:"start"`
	End      string   `yaml:"end"`
	TimeZone string   `yaml:"timezone"`
	Checks   []string `yaml:"checks"`
	Groups   []string `yaml:"groups"`
	Rules    []string `yaml:"rules"`

	// Parsed by validation: the zone and the one-off bounds, and the
	// recurring window's weekdays and minutes of the day.
	Loc       *time.Location `yaml:"-"`
	FromTime  time.Time      `yaml:"-"`
	ToTime    time.Time      `yaml:"-"`
	Days      [7]bool        `yaml:"-"` // by time.Weekday
	StartMin  int            `yaml:"-"`
	EndMin    int            `yaml:"-"`
	Recurring bool           `yaml:"-"`
}

// localLayouts are the forms a one-off maintenance bound may take besides
// RFC 3339 (read in the window's time zone).
var localLayouts = [...]string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05"}

// ParseLocal reads a maintenance bound: RFC 3339, or a local date and time
// in loc.
func ParseLocal(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (a *Alerts) validate(sc Scope) {
	if a.ExternalURL != "" {
		u, err := url.Parse(a.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			sc.Errorf("external_url", "must be an http or https URL such as https://dash.example.org, got %q", a.ExternalURL)
		}
	}
	if a.GroupWait < 0 || a.GroupWait.D() > 10*time.Minute {
		sc.Errorf("group_wait", "must be between 0s and 10m, got %s", a.GroupWait)
	}
	if a.RepeatInterval != 0 && a.RepeatInterval.D() < time.Minute {
		sc.Errorf("repeat_interval", "must be 0 (never) or at least 1m, got %s", a.RepeatInterval)
	}
	if a.MaxAge.D() < time.Minute {
		sc.Errorf("max_age", "must be at least 1m, got %s", a.MaxAge)
	}
	names := map[string]bool{}
	for _, c := range a.Channels {
		names[c.Name] = true
	}
	var known []string
	for n := range names {
		known = append(known, n)
	}
	sort.Strings(known)
	for i, r := range a.Routes {
		rs := sc.Index("routes", i)
		if len(r.Channels) == 0 {
			rs.Errorf("channels", "missing required key: the channels this route sends to")
		}
		for j, ch := range r.Channels {
			if !names[ch] {
				msg := "unknown channel %q"
				if s := suggest(ch, known); s != "" {
					rs.Index("channels", j).Errorf("", msg+" (did you mean %q?)", ch, s)
				} else {
					rs.Index("channels", j).Errorf("", msg+" (channels: %s)", ch, strings.Join(known, ", "))
				}
			}
		}
		globs(rs, "checks", r.Checks)
		globs(rs, "groups", r.Groups)
		globs(rs, "rules", r.Rules)
		globs(rs, "hosts", r.Hosts)
		routeLabels(rs, r.Labels)
		for j, s := range r.Severities {
			if !validSeverity(s) {
				rs.Index("severities", j).Errorf("", "unknown severity %q (critical, warning or info)", s)
			}
		}
	}
	ruleNames := map[string]int{}
	for i := range a.Rules {
		rs := sc.Index("rules", i)
		a.Rules[i].validate(rs)
		if n := a.Rules[i].Name; n != "" {
			if first, dup := ruleNames[n]; dup {
				rs.Errorf("name", "duplicate rule name %q (first is rules[%d])", n, first)
			} else {
				ruleNames[n] = i
			}
		}
	}
	for i := range a.Maintenance {
		a.Maintenance[i].validate(sc.Index("maintenance", i))
	}
}

func validSeverity(s string) bool {
	for _, v := range Severities() {
		if s == v {
			return true
		}
	}
	return false
}

// globs reports bad glob patterns in a list.
func globs(sc Scope, key string, list []string) {
	for i, p := range list {
		if _, err := path.Match(p, ""); err != nil {
			sc.Index(key, i).Errorf("", "bad glob pattern %q: %v", p, err)
		}
	}
}

// routeLabels reports the bad entries of a route's labels selector, in
// key order: a label name as fleet labels have them (alert labels such as
// host or mountpoint have that form too) and a non-empty glob.
func routeLabels(sc Scope, labels map[string]string) {
	ls := sc.Child("labels")
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		switch _, err := path.Match(v, ""); {
		case !labelKeyRE.MatchString(k):
			ls.Errorf(k, "label name %q: 1-32 lowercase letters, digits or '_', not starting with a digit", k)
		case v == "":
			ls.Errorf(k, "empty pattern (use \"*\" for any value of a label the alert must have)")
		case err != nil:
			ls.Errorf(k, "bad glob pattern %q: %v", v, err)
		}
	}
}

// ValidRuleName reports whether n may name a host metric rule: rule names
// appear in alert keys, labels and URLs, and a hub checks the rule names
// its agents send with it.
func ValidRuleName(n string) bool { return checkNameRE.MatchString(n) }

func (r *Rule) validate(sc Scope) {
	switch {
	case r.Name == "":
		sc.Required("name", true)
	case !ValidRuleName(r.Name):
		sc.Errorf("name", "%q: letters, digits, '.', '_' and '-' only", r.Name)
	case strings.HasPrefix(r.Name, "dashd."):
		sc.Errorf("name", "%q: names starting with \"dashd.\" are dashd's own alerts", r.Name)
	}
	var metric *RuleMetric
	var names []string
	for _, m := range RuleMetrics() {
		names = append(names, m.Name)
		if m.Name == r.Metric {
			metric = &m
		}
	}
	switch {
	case r.Metric == "":
		sc.Errorf("metric", "missing required key (one of %s)", strings.Join(names, ", "))
	case metric == nil:
		if s := suggest(r.Metric, names); s != "" {
			sc.Errorf("metric", "unknown metric %q (did you mean %q?)", r.Metric, s)
		} else {
			sc.Errorf("metric", "unknown metric %q (one of %s)", r.Metric, strings.Join(names, ", "))
		}
	}
	if r.Severity == "" {
		r.Severity = SeverityWarning
	} else if !validSeverity(r.Severity) {
		sc.Errorf("severity", "unknown severity %q (critical, warning or info)", r.Severity)
	}
	if r.For < 0 || r.For.D() > 24*time.Hour {
		sc.Errorf("for", "must be between 0s and 24h, got %s", r.For)
	}
	if r.Metric == "fs_full_in" {
		if r.Above != nil || r.Below != nil || r.Clear != nil {
			sc.Errorf("metric", "fs_full_in takes within: (how soon a filesystem must be predicted to fill), not above/below/clear")
		}
		if r.Within == 0 {
			r.Within = Duration(24 * time.Hour)
		}
		if r.Window == 0 {
			r.Window = Duration(6 * time.Hour)
		}
		if r.Within.D() < time.Hour || r.Within.D() > 90*24*time.Hour {
			sc.Errorf("within", "must be between 1h and 90d, got %s", r.Within)
		}
		if r.Window.D() < 30*time.Minute || r.Window.D() > 7*24*time.Hour {
			sc.Errorf("window", "must be between 30m and 7d, got %s", r.Window)
		}
	} else if metric != nil {
		if (r.Above == nil) == (r.Below == nil) {
			sc.Errorf("metric", "set exactly one of above: or below:")
		}
		if r.Within != 0 || r.Window != 0 {
			sc.Errorf("within", "within: and window: are for fs_full_in only")
		}
		if r.Clear != nil && r.Above != nil && *r.Clear > *r.Above {
			sc.Errorf("clear", "must not be above the threshold (%g) of an above: rule", *r.Above)
		}
		if r.Clear != nil && r.Below != nil && *r.Clear < *r.Below {
			sc.Errorf("clear", "must not be below the threshold (%g) of a below: rule", *r.Below)
		}
	}
	for i, o := range r.Overrides {
		os := sc.Index("overrides", i)
		if metric != nil && metric.Per == "" {
			os.Errorf("", "metric %q is one value for the host: overrides match filesystems or interfaces", r.Metric)
			continue
		}
		if o.Match == "" {
			os.Required("match", true)
		} else if _, err := path.Match(o.Match, ""); err != nil {
			os.Errorf("match", "bad glob pattern %q: %v", o.Match, err)
		}
		if r.Metric == "fs_full_in" && (o.Above != nil || o.Below != nil || o.Clear != nil) {
			os.Errorf("", "fs_full_in overrides may set for and disabled only")
			continue
		}
		if r.Above != nil && o.Below != nil || r.Below != nil && o.Above != nil {
			os.Errorf("", "an override keeps the rule's direction (above or below)")
		}
		if o.Clear != nil {
			above, below := r.Above, r.Below
			if o.Above != nil {
				above = o.Above
			}
			if o.Below != nil {
				below = o.Below
			}
			if above != nil && *o.Clear > *above || below != nil && *o.Clear < *below {
				os.Errorf("clear", "must not be past the override's threshold")
			}
		}
	}
}

// weekdayNames maps the accepted names of weekdays.
func weekdayNames() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		long := strings.ToLower(d.String())
		m[long] = d
		m[long[:3]] = d
	}
	return m
}

// clockMinutes reads "HH:MM" as minutes since midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, false
	}
	return hh*60 + mm, true
}

func (m *Maintenance) validate(sc Scope) {
	sc.Required("name", m.Name == "")
	m.Loc = time.UTC
	if m.TimeZone != "" {
		loc, err := time.LoadLocation(m.TimeZone)
		if err != nil {
			sc.Errorf("timezone", "unknown time zone %q (use an IANA name such as Europe/Berlin, or UTC)", m.TimeZone)
		} else {
			m.Loc = loc
		}
	}
	oneOff := m.From != "" || m.To != ""
	m.Recurring = m.Start != "" || m.End != "" || len(m.Weekdays) > 0
	switch {
	case oneOff && m.Recurring:
		sc.Errorf("from", "a window is either one-off (from, to) or recurring (start, end, weekdays), not both")
	case oneOff:
		var ok1, ok2 bool
		m.FromTime, ok1 = ParseLocal(m.From, m.Loc)
		m.ToTime, ok2 = ParseLocal(m.To, m.Loc)
		if !ok1 {
			sc.Errorf("from", "%q is not a time such as 2026-12-24 02:00 (in the window's time zone) or RFC 3339", m.From)
		}
		if !ok2 {
			sc.Errorf("to", "%q is not a time such as 2026-12-24 06:00 (in the window's time zone) or RFC 3339", m.To)
		}
		if ok1 && ok2 && !m.FromTime.Before(m.ToTime) {
			sc.Errorf("to", "must be after from (%s)", m.From)
		}
	case m.Recurring:
		var ok1, ok2 bool
		m.StartMin, ok1 = clockMinutes(m.Start)
		m.EndMin, ok2 = clockMinutes(m.End)
		if !ok1 {
			sc.Errorf("start", "%q is not a time of day such as 02:00", m.Start)
		}
		if !ok2 {
			sc.Errorf("end", "%q is not a time of day such as 04:00", m.End)
		}
		if ok1 && ok2 && m.StartMin == m.EndMin {
			sc.Errorf("end", "must differ from start (a window that wraps past midnight ends the next day)")
		}
		days := weekdayNames()
		if len(m.Weekdays) == 0 {
			m.Days = [7]bool{true, true, true, true, true, true, true}
		}
		for i, w := range m.Weekdays {
			d, ok := days[strings.ToLower(w)]
			if !ok {
				sc.Index("weekdays", i).Errorf("", "%q is not a weekday (mon, tue, ... or monday, ...)", w)
				continue
			}
			m.Days[d] = true
		}
	default:
		sc.Errorf("", "a maintenance window needs from and to (one-off) or start and end (recurring)")
	}
	globs(sc, "checks", m.Checks)
	globs(sc, "groups", m.Groups)
	globs(sc, "rules", m.Rules)
}

// Active reports whether the window covers t.
func (m Maintenance) Active(t time.Time) bool {
	if !m.Recurring {
		return !t.Before(m.FromTime) && t.Before(m.ToTime)
	}
	lt := t.In(m.Loc)
	min := lt.Hour()*60 + lt.Minute()
	if m.StartMin < m.EndMin {
		return m.Days[lt.Weekday()] && min >= m.StartMin && min < m.EndMin
	}
	// Wraps past midnight: the evening part belongs to its weekday, the
	// morning part to the day before.
	if min >= m.StartMin {
		return m.Days[lt.Weekday()]
	}
	return min < m.EndMin && m.Days[(lt.Weekday()+6)%7]
}

// decodeChannels decodes alerts.channels: common keys, then the type's
// spec from the same mapping.
func (d *decoder) decodeChannels(list *yaml.Node, types ChannelTypes) []Channel {
	path := "alerts.channels"
	if list.Kind != yaml.SequenceNode {
		d.add(list, path, "expected a list of channels, got %s", describe(list))
		return nil
	}
	typeNames := make([]string, 0, len(types))
	for n := range types {
		typeNames = append(typeNames, n)
	}
	sort.Strings(typeNames)
	common := structFields(reflect.TypeOf(Channel{}))
	commonKeys := map[string]bool{}
	for k := range common {
		commonKeys[k] = true
	}
	var out []Channel
	seen := map[string]int{}
	for i, n := range list.Content {
		sc := Scope{d: d, node: n, path: path + "[" + strconv.Itoa(i) + "]"}
		if n.Kind != yaml.MappingNode {
			d.add(n, sc.path, "expected a mapping with name and type, got %s", describe(n))
			continue
		}
		c := Channel{Timeout: Duration(DefaultChannelTimeout), MaxPerHour: DefaultMaxPerHour, Line: n.Line, Column: n.Column}
		cv := reflect.ValueOf(&c).Elem()
		for j := 0; j+1 < len(n.Content); j += 2 {
			if idx, ok := common[n.Content[j].Value]; ok {
				d.decode(n.Content[j+1], cv.FieldByIndex(idx), joinPath(sc.path, n.Content[j].Value))
			}
		}
		var spec ChannelSpec
		switch {
		case c.Type == "":
			sc.Errorf("type", "missing required key (one of %s)", strings.Join(typeNames, ", "))
		case types[c.Type] == nil:
			if s := suggest(c.Type, typeNames); s != "" {
				sc.Errorf("type", "unknown channel type %q (did you mean %q?)", c.Type, s)
			} else {
				sc.Errorf("type", "unknown channel type %q (known types: %s)", c.Type, strings.Join(typeNames, ", "))
			}
		default:
			spec = types[c.Type]()
			d.decodeStruct(n, reflect.ValueOf(spec).Elem(), sc.path, commonKeys)
		}
		switch {
		case c.Name == "":
			sc.Required("name", true)
		case !checkNameRE.MatchString(c.Name):
			sc.Errorf("name", "%q: letters, digits, '.', '_' and '-' only", c.Name)
		default:
			if first, dup := seen[c.Name]; dup {
				sc.Errorf("name", "duplicate channel name %q (first defined at line %d)", c.Name, first)
			} else {
				seen[c.Name] = n.Line
			}
		}
		if c.Timeout.D() < 100*time.Millisecond || c.Timeout.D() > 5*time.Minute {
			sc.Errorf("timeout", "must be between 100ms and 5m, got %s", c.Timeout)
		}
		if c.MaxPerHour < 1 || c.MaxPerHour > 10000 {
			sc.Errorf("max_per_hour", "must be between 1 and 10000, got %d", c.MaxPerHour)
		}
		if spec != nil {
			spec.Validate(sc)
			c.Spec = spec
		}
		out = append(out, c)
	}
	return out
}
