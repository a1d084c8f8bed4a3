package auth

import (
	"context"
	"fmt"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// Prune applies a configuration reload to the stored sessions: keep is
// asked about each one and answers the role it has from now on, or false
// to end it (KeepFor answers for a configuration: a local user removed
// from auth.users, or an OIDC user whose groups no longer map to a role,
// is signed out; a user whose role changed keeps their sessions with the
// new role, effective from their next request; their open streams stay,
// since every role may View). It returns how many sessions ended and how
// many changed role.
func (s *Sessions) Prune(ctx context.Context, keep func(Session) (role string, ok bool)) (ended, changed int, err error) {
	list, err := s.db.Sessions("")
	if err != nil {
		return 0, 0, fmt.Errorf("auth: prune sessions: %w", err)
	}
	limits := s.currentLimits()
	var end []string
	var updates []storage.SessionUpdate
	for _, r := range list {
		role, ok := keep(s.fromRecord(r, limits))
		switch {
		case !ok || config.RoleRank(role) == 0:
			end = append(end, r.Key)
		case role != r.Role:
			updates = append(updates, storage.SessionUpdate{Key: r.Key, Role: role})
		}
	}
	for len(updates) > 0 {
		n := min(len(updates), deleteBatch)
		if err := s.db.UpdateSessions(ctx, updates[:n]); err != nil {
			return 0, changed, fmt.Errorf("auth: prune sessions: %w", err)
		}
		changed += n
		updates = updates[n:]
	}
	if err := s.end(ctx, end); err != nil {
		return 0, changed, fmt.Errorf("auth: prune sessions: %w", err)
	}
	return len(end), changed, nil
}

// KeepFor is the Prune policy of a loaded configuration: a password
// session lives on while auth.mode is local and its user is in auth.users,
// with that user's role; an OIDC session while auth.mode is oidc and its
// groups (as the provider gave them at sign-in) still map to a role by
// auth.oidc.roles and default_role. Any other session ends.
func KeepFor(a config.Auth) func(Session) (string, bool) {
	users := make(map[string]string, len(a.Users))
	for _, u := range a.Users {
		users[u.Name] = u.Role
	}
	return func(s Session) (string, bool) {
		switch {
		case s.Method == ViaPassword && a.Mode == config.AuthLocal:
			role, ok := users[s.Principal.Name]
			return role, ok
		case s.Method == ViaOIDC && a.Mode == config.AuthOIDC:
			role := RoleFor(s.Principal.Groups, a.OIDC.Roles, a.OIDC.DefaultRole)
			return role, role != ""
		}
		return "", false
	}
}
