package config

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Fleet makes dashd one of many: with this section `dashd serve` is a hub
// (it runs an embedded NATS server with JetStream, or uses the cluster in
// NATS.URLs, and stores every agent's history per host) and `dashd agent`
// publishes this host's samples, results, events and hello to it. Absent
// (nil), dashd watches only its own host, as before.
type Fleet struct {
	// Host is this host's name in the fleet: the subject token its data is
	// published under (dashd.<host>.sample). Default: the short host name
	// (FleetHostFrom).
	Host string `yaml:"host"`
	// Labels describe the host to the hub (env: prod, role: db): they are
	// sent in the hello and shown and filtered on by the hub.
	Labels map[string]string `yaml:"labels"`
	NATS   FleetNATS         `yaml:"nats"`
	// Agents are the hosts allowed to connect to the hub's embedded NATS
	// server, with their credentials: each may publish only under its
	// own host's subjects.
	Agents []FleetAgent `yaml:"agents"`
	Stream FleetStream  `yaml:"stream"`
	Spool  FleetSpool   `yaml:"spool"`
	// UnreachableIntervals is how many of an agent's sample intervals may
	// pass without a word from it before the hub calls it unreachable.
	UnreachableIntervals int `yaml:"unreachable_intervals"`
	// Name names this hub among the hubs of one site (several hubs on the
	// same streams): its durable consumers are named after it, so each
	// hub keeps its own view. Default: Host, else the short host name.
	Name string `yaml:"name"`
	// HubRaw is how long a hub keeps its hosts' raw samples (the newest
	// state and the last minutes of detail); older history lives in the
	// hub's minute and hour tiers, and raw detail stays on the agents,
	// which answer range requests for it. Default 10m.
	HubRaw Duration `yaml:"hub_raw"`
	// Hubs are the other hubs of the site allowed to connect to this
	// hub's embedded NATS server with a hub's permissions (user and
	// password; the user defaults to the host name given).
	Hubs []FleetAgent `yaml:"hubs"`
}

// FleetNATS says where NATS is and how this dashd signs in to it.
type FleetNATS struct {
	// URLs of an existing NATS cluster (nats:// or tls://). An agent
	// needs them; a hub with URLs uses that cluster instead of starting
	// the embedded server.
	URLs     []string      `yaml:"urls"`
	Embedded FleetEmbedded `yaml:"embedded"`
	// User and Password, or NKeySeedFile: this dashd's credentials.
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	NKeySeedFile string `yaml:"nkey_seed_file"`
	// TLS to the NATS server: the CA that signed it, and a client
	// certificate when the server asks for one.
	TLS FleetTLS `yaml:"tls"`
}

// FleetEmbedded is the hub's own NATS server.
type FleetEmbedded struct {
	// Listen is where agents connect (default 127.0.0.1:4222).
	Listen string `yaml:"listen"`
	// MaxStore bounds JetStream's files under the data directory.
	MaxStore ByteSize `yaml:"max_store"`
	// TLS serves the server's certificate; with CAFile set it also
	// requires and verifies client certificates.
	TLS FleetTLS `yaml:"tls"`
}

// FleetTLS names PEM files.
type FleetTLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether any TLS file is set.
func (t FleetTLS) Enabled() bool { return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" }

// FleetAgent is one agent the embedded server lets in.
type FleetAgent struct {
	Host string `yaml:"host"`
	// User defaults to Host; with Password it signs in by name.
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// NKey is the agent's public user key (U...), instead of a password.
	NKey string `yaml:"nkey"`
}

// FleetStream shapes the JetStream stream the hub creates.
type FleetStream struct {
	// MaxAge keeps messages this long after they arrived (replay for a
	// hub that was away), MaxBytes bounds the stream.
	MaxAge   Duration `yaml:"max_age"`
	MaxBytes ByteSize `yaml:"max_bytes"`
	// Replicas on a NATS cluster (1 on the embedded server).
	Replicas int `yaml:"replicas"`
	// DuplicateWindow is how long JetStream remembers message ids: a
	// message re-published within it (an agent draining its spool after
	// a lost acknowledgement) is stored once.
	DuplicateWindow Duration `yaml:"duplicate_window"`
}

// FleetSpool bounds what an agent keeps while NATS is unreachable.
type FleetSpool struct {
	// MaxSize is the spool's budget; the oldest messages go first.
	MaxSize ByteSize `yaml:"max_size"`
}

// Bounds and defaults of the fleet settings.
const (
	DefaultFleetListen = "127.0.0.1:4222"
	MaxFleetLabels     = 32
	MaxFleetLabelValue = 128
	MaxFleetAgents     = 10_000
	MinFleetSpool      = 1 * MB
	MaxFleetSpool      = 100 * GB
	MinFleetStore      = 64 * MB
	// FleetActionsBytes is what the hubs' actions stream (chat between
	// hubs) reserves on the NATS server beside the fleet stream.
	FleetActionsBytes    = 16 * MiB
	maxUnreachable       = 1000
	defaultUnreachable   = 5
	defaultFleetSpool    = 64 * MB
	defaultFleetStore    = 2 * GiB
	defaultStreamBytes   = 1 * GiB
	defaultStreamAge     = Duration(24 * time.Hour)
	defaultDuplicateWind = Duration(2 * time.Minute)
	defaultHubRaw        = Duration(10 * time.Minute)
)

// fleetHostRE is the one rule for fleet host names: a NATS subject token
// (no dots, wildcards or spaces) that is also safe in URLs and storage keys.
var fleetHostRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// FleetHostRule says in words what ValidFleetHost accepts.
const FleetHostRule = "fleet host names are 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit"

// ValidFleetHost reports whether name may name a host in the fleet.
func ValidFleetHost(name string) bool { return fleetHostRE.MatchString(name) }

// FleetHostFrom turns a system host name into a valid fleet host name:
// the part before the first dot, lowercased, other characters as '-'.
// It returns "" when nothing usable is left.
func FleetHostFrom(hostname string) string {
	short, _, _ := strings.Cut(strings.ToLower(hostname), ".")
	b := []byte(short)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	s := strings.TrimLeft(string(b), "-_")
	if len(s) > 63 {
		s = s[:63]
	}
	if !ValidFleetHost(s) {
		return ""
	}
	return s
}

var labelKeyRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,31}$`)

// UsesEmbedded reports whether a hub runs the embedded NATS server (no
// URLs of an existing cluster).
func (f *Fleet) UsesEmbedded() bool { return f != nil && len(f.NATS.URLs) == 0 }

// validate fills defaults and checks the section; a nil Fleet (no
// section) has nothing to check.
func (f *Fleet) validate(sc Scope) {
	if f == nil {
		return
	}
	if f.UnreachableIntervals == 0 && !sc.Has("unreachable_intervals") {
		f.UnreachableIntervals = defaultUnreachable
	}
	if f.UnreachableIntervals < 2 || f.UnreachableIntervals > maxUnreachable {
		sc.Errorf("unreachable_intervals", "must be between 2 and %d, got %d", maxUnreachable, f.UnreachableIntervals)
	}
	if f.Host != "" && !ValidFleetHost(f.Host) {
		sc.Errorf("host", "%q: %s", f.Host, FleetHostRule)
	}
	if f.Name != "" && !ValidFleetHost(f.Name) {
		sc.Errorf("name", "%q: %s", f.Name, FleetHostRule)
	}
	if f.HubRaw == 0 && !sc.Has("hub_raw") {
		f.HubRaw = defaultHubRaw
	}
	if f.HubRaw.D() < time.Minute || f.HubRaw.D() > 24*time.Hour {
		sc.Errorf("hub_raw", "must be between 1m and 24h, got %s", f.HubRaw)
	}
	f.validateHubs(sc)
	if len(f.Labels) > MaxFleetLabels {
		sc.Errorf("labels", "at most %d labels, got %d", MaxFleetLabels, len(f.Labels))
	}
	for k, v := range f.Labels {
		if !labelKeyRE.MatchString(k) {
			sc.Child("labels").Errorf(k, "label name %q: 1-32 lowercase letters, digits or '_', not starting with a digit", k)
		}
		if len(v) > MaxFleetLabelValue || strings.ContainsAny(v, "\x00\n\r") {
			sc.Child("labels").Errorf(k, "label value: at most %d bytes on one line", MaxFleetLabelValue)
		}
	}
	f.NATS.validate(sc.Child("nats"))
	f.validateAgents(sc)
	f.Stream.validate(sc.Child("stream"))
	// The hubs' actions stream (chat between hubs) takes its own
	// FleetActionsBytes beside the fleet stream.
	if f.UsesEmbedded() && f.Stream.MaxBytes+FleetActionsBytes > f.NATS.Embedded.MaxStore {
		sc.Child("stream").Errorf("max_bytes", "%s and the hubs' actions stream (%s) do not fit in nats.embedded.max_store (%s)",
			f.Stream.MaxBytes, FleetActionsBytes, f.NATS.Embedded.MaxStore)
	}
	if f.Spool.MaxSize == 0 && !sc.Child("spool").Has("max_size") {
		f.Spool.MaxSize = defaultFleetSpool
	}
	if f.Spool.MaxSize < MinFleetSpool || f.Spool.MaxSize > MaxFleetSpool {
		sc.Child("spool").Errorf("max_size", "must be between %s and %s, got %s", MinFleetSpool, MaxFleetSpool, f.Spool.MaxSize)
	}
}

func (n *FleetNATS) validate(sc Scope) {
	if len(n.URLs) > 0 && sc.Has("embedded") {
		sc.Errorf("embedded", "set either urls (an existing NATS) or embedded (the hub's own server), not both")
	}
	for i, u := range n.URLs {
		if msg := natsURLProblem(u); msg != "" {
			sc.Index("urls", i).Errorf("", "%s", msg)
		}
	}
	if n.NKeySeedFile != "" && (n.User != "" || n.Password != "") {
		sc.Errorf("nkey_seed_file", "use either user/password or nkey_seed_file, not both")
	}
	if (n.User == "") != (n.Password == "") {
		sc.Errorf("user", "user and password go together")
	}
	n.TLS.validate(sc.Child("tls"), false)
	e := &n.Embedded
	es := sc.Child("embedded")
	if e.Listen == "" {
		e.Listen = DefaultFleetListen
	}
	if _, port, err := net.SplitHostPort(e.Listen); err != nil || port == "" {
		es.Errorf("listen", "%q: want host:port, e.g. %s", e.Listen, DefaultFleetListen)
	}
	if e.MaxStore == 0 && !es.Has("max_store") {
		e.MaxStore = defaultFleetStore
	}
	if e.MaxStore < MinFleetStore {
		es.Errorf("max_store", "must be at least %s, got %s", MinFleetStore, e.MaxStore)
	}
	e.TLS.validate(es.Child("tls"), true)
}

// natsURLProblem explains what is wrong with a NATS URL, "" when nothing.
func natsURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "not a URL: " + RedactURL(raw)
	}
	switch u.Scheme {
	case "nats", "tls":
	default:
		return "want nats://host:port or tls://host:port, got " + RedactURL(raw)
	}
	if u.Hostname() == "" {
		return "no host in " + RedactURL(raw)
	}
	return ""
}

// validate checks a TLS file set; a server needs both a certificate and a
// key, a client may give only a CA.
func (t FleetTLS) validate(sc Scope, server bool) {
	if (t.CertFile == "") != (t.KeyFile == "") {
		sc.Errorf("cert_file", "cert_file and key_file go together")
	}
	if server && t.CAFile != "" && t.CertFile == "" {
		sc.Errorf("ca_file", "verifying clients needs the server's own cert_file and key_file")
	}
}

func (f *Fleet) validateAgents(sc Scope) {
	if len(f.Agents) > MaxFleetAgents {
		sc.Errorf("agents", "at most %d agents, got %d", MaxFleetAgents, len(f.Agents))
		return
	}
	hosts := map[string]int{}
	users := map[string]int{}
	for i := range f.Agents {
		a := &f.Agents[i]
		item := sc.Index("agents", i)
		if !ValidFleetHost(a.Host) {
			item.Errorf("host", "%q: %s", a.Host, FleetHostRule)
		} else if first, dup := hosts[a.Host]; dup {
			item.Errorf("host", "duplicate host %q (first listed as agents[%d])", a.Host, first)
		} else {
			hosts[a.Host] = i
		}
		switch {
		case a.NKey != "" && (a.Password != "" || a.User != ""):
			item.Errorf("nkey", "use either nkey or user/password, not both")
		case a.NKey != "":
			if !validUserNKey(a.NKey) {
				item.Errorf("nkey", "want the agent's public user key (56 characters starting with U, from nk -gen user -pubout)")
			}
		case a.Password == "":
			item.Errorf("password", "missing: give the agent a password (from the environment: ${VAR}) or an nkey")
		case len(a.Password) < 12:
			item.Errorf("password", "must be at least 12 characters")
		}
		if a.NKey == "" && a.User == "" {
			a.User = a.Host
		}
		if a.User != "" {
			if first, dup := users[a.User]; dup {
				item.Errorf("user", "duplicate user %q (first used by agents[%d])", a.User, first)
			} else {
				users[a.User] = i
			}
		}
	}
}

// validateHubs checks the peer hubs: each signs in by password (or
// nkey), with names that collide with no agent's user.
func (f *Fleet) validateHubs(sc Scope) {
	agents := map[string]bool{}
	for _, a := range f.Agents {
		agents[a.User] = true
	}
	for i := range f.Hubs {
		h := &f.Hubs[i]
		item := sc.Index("hubs", i)
		if h.User == "" {
			h.User = h.Host
		}
		switch {
		case h.NKey != "" && h.Password != "":
			item.Errorf("nkey", "use either nkey or user/password, not both")
		case h.NKey != "":
			if !validUserNKey(h.NKey) {
				item.Errorf("nkey", "want the hub's public user key (56 characters starting with U)")
			}
		case h.User == "":
			item.Errorf("user", "missing: name the hub (user or host)")
		case len(h.Password) < 12:
			item.Errorf("password", "must be at least 12 characters")
		}
		if h.User != "" && agents[h.User] {
			item.Errorf("user", "%q is an agent's user too", h.User)
		}
	}
}

// validUserNKey checks the shape of a public user NKey (the server checks
// its checksum when it loads it).
func validUserNKey(k string) bool {
	if len(k) != 56 || k[0] != 'U' {
		return false
	}
	for _, c := range k {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

func (s *FleetStream) validate(sc Scope) {
	if s.MaxAge == 0 && !sc.Has("max_age") {
		s.MaxAge = defaultStreamAge
	}
	if s.MaxBytes == 0 && !sc.Has("max_bytes") {
		s.MaxBytes = defaultStreamBytes
	}
	if s.Replicas == 0 && !sc.Has("replicas") {
		s.Replicas = 1
	}
	if s.DuplicateWindow == 0 && !sc.Has("duplicate_window") {
		s.DuplicateWindow = defaultDuplicateWind
	}
	if s.MaxAge.D() < time.Minute {
		sc.Errorf("max_age", "must be at least 1m, got %s", s.MaxAge)
	}
	if s.MaxBytes < MinFleetSpool {
		sc.Errorf("max_bytes", "must be at least %s, got %s", MinFleetSpool, s.MaxBytes)
	}
	if s.Replicas < 1 || s.Replicas > 5 {
		sc.Errorf("replicas", "must be between 1 and 5, got %d", s.Replicas)
	}
	if s.DuplicateWindow.D() < 10*time.Second || s.DuplicateWindow > s.MaxAge {
		sc.Errorf("duplicate_window", "must be between 10s and max_age (%s), got %s", s.MaxAge, s.DuplicateWindow)
	}
}
