package auth

import (
	"fmt"

	"github.com/dashd/dashd/config"
)

// How a principal was authenticated (Principal.Via).
const (
	// ViaNone is everyone in auth mode none: today's single-host
	// behaviour, allowed on loopback or with allow_unauthenticated.
	ViaNone = "none"
	// ViaSession is a browser carrying a session cookie (Sessions.Lookup).
	ViaSession = "session"
	// ViaToken is an API token (Authorization: Bearer).
	ViaToken = "token"
	// ViaProxy is a user named by a trusted proxy's header.
	ViaProxy = "proxy"
	// ViaOIDC is a user just signed in by the OpenID Connect provider
	// (OIDC.Finish); the server turns it into a session.
	ViaOIDC = "oidc"
	// ViaPassword is a local user who just gave the right password
	// (Local.Login); the server turns it into a session.
	ViaPassword = "password"
)

// Principal is who a request comes from. The zero Principal is anonymous
// and may do nothing: every route that is not public checks Can.
type Principal struct {
	// Name is the user's name (the chat author, the audit log's user) or
	// the token's name; "" in mode none.
	Name string
	// Role is viewer, operator or admin (config.RoleViewer...); empty for
	// tokens, whose Scope decides instead.
	Role string
	// Via says how the request was authenticated (ViaSession, ViaToken...).
	Via string
	// Session is the session's key (Session.Key, a hash: not the cookie),
	// for ViaSession: it names the session in read marks, logs and Watch.
	Session string
	// Scope is the token's scope (config.ScopeRead...), for ViaToken.
	Scope string
	// Groups are the user's groups from the proxy or the OIDC provider.
	Groups []string
}

// Everyone is the principal of every request in auth mode none: the
// operator chose a dashboard without sign-in (on loopback, or explicitly
// with allow_unauthenticated), so it may do everything, as before auth
// existed.
func Everyone() Principal { return Principal{Role: config.RoleAdmin, Via: ViaNone} }

// Action is something a request may want to do; Principal.Can says
// whether it may.
type Action int

// Actions, as the server's routes and streams need them.
const (
	// View reads the dashboard pages, their live streams (/api/events,
	// notifications) and the chat.
	View Action = iota + 1
	// ReadAPI reads the JSON API.
	ReadAPI
	// ReadMetrics reads /metrics.
	ReadMetrics
	// Chat posts in the chat.
	Chat
	// Silence creates and expires silences.
	Silence
	// Acknowledge acknowledges alerts.
	Acknowledge
	// RunCheck runs a check now.
	RunCheck
	// Admin reads the audit log and manages users' sessions, and whatever
	// later issues reserve for admins.
	Admin
)

// String names the action in logs and refusals ("may not silence").
func (a Action) String() string {
	switch a {
	case View:
		return "view"
	case ReadAPI:
		return "read the API"
	case ReadMetrics:
		return "read metrics"
	case Chat:
		return "chat"
	case Silence:
		return "silence"
	case Acknowledge:
		return "acknowledge"
	case RunCheck:
		return "run a check"
	case Admin:
		return "administer"
	}
	return fmt.Sprintf("action %d", int(a))
}

// Can reports whether p may take action a.
//
// Users by role: a viewer may View, ReadAPI and ReadMetrics; an operator
// also Chat, Silence, Acknowledge and RunCheck; an admin everything.
//
// Tokens by scope, whatever their Role: read may ReadAPI only; metrics
// ReadMetrics only; write ReadAPI, Silence, Acknowledge and RunCheck. No
// token may View: the pages, their streams and the chat are for people in
// browsers, and a script reads the same data from the JSON API. No token
// may Chat (the chat's author is a person) or Admin.
//
// Anyone else (the zero Principal, an unknown role or scope) may do
// nothing.
func (p Principal) Can(a Action) bool {
	if p.Via == ViaToken {
		switch p.Scope {
		case config.ScopeRead:
			return a == ReadAPI
		case config.ScopeMetrics:
			return a == ReadMetrics
		case config.ScopeWrite:
			return a == ReadAPI || a == Silence || a == Acknowledge || a == RunCheck
		}
		return false
	}
	if p.Via == "" {
		return false
	}
	switch config.RoleRank(p.Role) {
	case config.RoleRank(config.RoleAdmin):
		return a >= View && a <= Admin
	case config.RoleRank(config.RoleOperator):
		return a >= View && a <= RunCheck
	case config.RoleRank(config.RoleViewer):
		return a == View || a == ReadAPI || a == ReadMetrics
	}
	return false
}
