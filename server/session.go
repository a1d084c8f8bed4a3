package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
)

// Cookies of a browser session. The session id only ties a browser's tabs
// together (notifications read state, SendToSession); it grants nothing, so
// there is no server-side session table to expire.
const (
	sessionCookie = "dashd_session"
	nameCookie    = "dashd_name"
	sessionMaxAge = 400 * 24 * time.Hour
	// MaxDisplayName is the longest display name, in characters.
	MaxDisplayName = 32
)

// session returns the request's session id, issuing a new one (a random
// 128-bit value in an HttpOnly, SameSite=Lax cookie) when it has none or an
// invalid one.
func (s *Server) session(c *fiber.Ctx) string {
	// Signed in: the auth session (its key), so that the streams of a
	// session that ends can be closed by it.
	if p := principal(c); p.Session != "" {
		return p.Session
	}
	if id := c.Cookies(sessionCookie); validSessionID(id) {
		return id
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("server: crypto/rand failed: " + err.Error()) // cannot happen on Linux
	}
	id := hex.EncodeToString(b[:])
	s.setCookie(c, sessionCookie, id)
	// Later reads in this request (c.Cookies) must see the new id.
	c.Request().Header.SetCookie(sessionCookie, id)
	return id
}

func (s *Server) setCookie(c *fiber.Ctx, name, value string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: "/",
		MaxAge:   int(sessionMaxAge / time.Second),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: c.Protocol() == "https",
	})
}

func validSessionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// displayName is who the request is, in the chat and on silences: the
// signed-in user's name; in mode none, the name the session chose, or
// guest-xxxx from its id.
func (s *Server) displayName(c *fiber.Ctx, sid string) string {
	if p := principal(c); p.Via != auth.ViaNone && p.Name != "" {
		return p.Name
	}
	if raw := c.Cookies(nameCookie); raw != "" {
		n, err := url.QueryUnescape(raw)
		if err != nil {
			n = ""
		}
		if clean, problem := cleanName(n); problem == "" && clean != "" {
			return clean
		}
	}
	return "guest-" + sid[:4]
}

// cleanName validates a display name; it returns the trimmed name or a
// message for the user.
func cleanName(n string) (string, string) {
	n = strings.TrimSpace(n)
	switch {
	case n == "":
		return "", "Your name cannot be empty."
	case !utf8.ValidString(n):
		return "", "Your name is not valid text."
	case utf8.RuneCountInString(n) > MaxDisplayName:
		return "", "Your name is too long: at most 32 characters."
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return "", "Your name cannot contain control characters."
		}
	}
	return n, ""
}

// handleSetName answers POST /api/session/name: it reads the displayName
// signal and keeps it in a cookie.
func (s *Server) handleSetName(c *fiber.Ctx) error {
	if principal(c).Via != auth.ViaNone {
		return fiber.NewError(fiber.StatusForbidden, "your name is your user name: choosing one is for auth mode none only")
	}
	sid := s.session(c)
	var sig struct {
		DisplayName string `json:"displayName"`
	}
	if err := hub.ReadSignals(c, &sig); err != nil {
		return err
	}
	name, problem := cleanName(sig.DisplayName)
	w := hub.SSE(c)
	if problem != "" {
		return w.Send(hub.PatchComponent(c.UserContext(), ui.ChatError(problem)))
	}
	// Cookie values cannot hold every character: store it escaped.
	s.setCookie(c, nameCookie, url.QueryEscape(name))
	s.log.Debug("display name set", "session", sid[:8])
	// The name goes back as element text only: the pinned client rewrites
	// $name and @name( even inside string literals of signals, so user text
	// never travels as a signal (the input already holds what was typed).
	return w.Send(
		hub.PatchComponent(c.UserContext(), ui.SessionName(name)),
		hub.PatchComponent(c.UserContext(), ui.ChatError("")),
	)
}
