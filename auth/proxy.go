package auth

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/dashd/dashd/config"
)

// FromProxy returns the user a trusted reverse proxy (oauth2-proxy,
// Authelia, Authentik, Caddy forward_auth) names in its headers, read with
// header (the request's header by name). Only a request whose remote
// address (the TCP peer, never a forwarded-for header) lies in
// cfg.TrustedPrefixes is believed; for any other, and for a trusted one
// naming nobody, the error wraps ErrNoIdentity and the request is
// anonymous. The server must also strip these headers from requests of
// anyone else before anything reads them.
//
// The name comes from cfg.UserHeader (ErrBadName when it has control
// characters, is not UTF-8 or is over MaxNameLen bytes); the groups from
// cfg.GroupsHeader, comma separated; the role is the highest any group
// grants in cfg.Roles, else cfg.DefaultRole, else none (ErrNoRole: the
// server answers 403).
func FromProxy(remote netip.Addr, header func(string) string, cfg config.AuthProxyCfg) (Principal, error) {
	remote = remote.Unmap()
	trusted := false
	for _, p := range cfg.TrustedPrefixes {
		if p.Contains(remote) {
			trusted = true
			break
		}
	}
	if !trusted || cfg.UserHeader == "" {
		return Principal{}, fmt.Errorf("auth: proxy: %w", ErrNoIdentity)
	}
	name := header(cfg.UserHeader)
	if name == "" {
		return Principal{}, fmt.Errorf("auth: proxy: %w: no %s header", ErrNoIdentity, cfg.UserHeader)
	}
	if !validName(name) {
		return Principal{}, fmt.Errorf("auth: proxy: %s header: %w", cfg.UserHeader, ErrBadName)
	}
	var groups []string
	if cfg.GroupsHeader != "" {
		if v := header(cfg.GroupsHeader); v != "" {
			groups = cleanGroups(strings.SplitN(v, ",", 4*maxGroups))
		}
	}
	role := RoleFor(groups, cfg.Roles, cfg.DefaultRole)
	if role == "" {
		return Principal{}, fmt.Errorf("auth: proxy: user %q: %w: none of their groups is in auth.proxy.roles and auth.proxy.default_role is empty", name, ErrNoRole)
	}
	return Principal{Name: name, Role: role, Via: ViaProxy, Groups: groups}, nil
}
