package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dashd/dashd/config"
)

// Bounds on what a proxy header or an ID token may say about a user.
const (
	// MaxNameLen bounds a user name from a header or an ID token.
	MaxNameLen = 128
	// maxGroups bounds the groups kept per user; more are ignored.
	maxGroups = 256
	// maxGroupLen bounds one group name; longer ones are ignored.
	maxGroupLen = 256
)

// RoleFor returns the highest role that any of groups grants in rg, or
// def when none does ("" when def is empty too: the user has no role).
func RoleFor(groups []string, rg config.RoleGroups, def string) string {
	best := ""
	grant := func(role string, list []string) {
		if config.RoleRank(role) <= config.RoleRank(best) {
			return
		}
		for _, g := range list {
			for _, have := range groups {
				if have == g {
					best = role
					return
				}
			}
		}
	}
	grant(config.RoleAdmin, rg.Admin)
	grant(config.RoleOperator, rg.Operator)
	grant(config.RoleViewer, rg.Viewer)
	if best == "" && config.RoleRank(def) > 0 {
		return def
	}
	return best
}

// validName reports whether a user name from outside (a header, an ID
// token) is usable: 1 to MaxNameLen bytes of UTF-8 without control
// characters (no line breaks to forge log lines, no NULs) nor surrounding
// spaces.
func validName(name string) bool { return cleanText(name, MaxNameLen) }

// cleanText reports whether s is 1 to maxLen bytes of UTF-8 without
// control characters nor surrounding spaces.
func cleanText(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError })
}

// cleanGroups keeps the usable groups of a list (trimmed, 1 to
// maxGroupLen bytes, no control characters), at most maxGroups of them,
// without duplicates.
func cleanGroups(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range in {
		g = strings.TrimSpace(g)
		if seen[g] || !cleanText(g, maxGroupLen) {
			continue
		}
		seen[g] = true
		out = append(out, g)
		if len(out) == maxGroups {
			break
		}
	}
	return out
}

// boundText keeps at most n bytes of s, as valid UTF-8 without control
// characters (it is shown on a page and logged).
func boundText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
