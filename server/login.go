package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// loginRoutes registers sign-in and sign-out. They are open to everyone:
// the login form carries its own CSRF token (a double-submit cookie) and
// the same-origin checks.
func (s *Server) loginRoutes() {
	s.app.Get("/login", s.handleLoginPage)
	s.app.Post("/login", s.handleLogin)
	s.app.Post("/logout", sameOriginWrites, s.handleLogout)
	s.app.Post("/logout/everywhere", sameOriginWrites, s.allow("", auth.View), s.handleLogoutEverywhere)
	s.app.Get("/auth/login", s.handleOIDCStart)
	s.app.Get("/auth/callback", s.handleOIDCCallback)
}

// newToken is a random 128-bit hex token.
func newToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("server: crypto/rand failed: " + err.Error()) // cannot happen on Linux
	}
	return hex.EncodeToString(b[:])
}

func (s *Server) loginView(c *fiber.Ctx, user, problem string) ui.LoginView {
	cfg := s.deps.Auth.Config()
	token := newToken()
	s.setAuthCookie(c, csrfCookie, token, time.Hour)
	return ui.LoginView{Local: cfg.Mode == config.AuthLocal, SSO: cfg.Mode == config.AuthOIDC,
		Next: localPath(c.Query("next", c.FormValue("next"))), CSRF: token, User: user, Error: problem}
}

func (s *Server) handleLoginPage(c *fiber.Ctx) error {
	switch s.deps.Auth.Config().Mode {
	case config.AuthNone, config.AuthProxy:
		// Nothing to sign in to: everyone (none) or the proxy decides.
		return c.Redirect(localPath(c.Query("next")), fiber.StatusSeeOther)
	}
	return s.renderPage(c, ui.LoginPage(s.page(), s.loginView(c, "", "")))
}

// handleLogin checks the form: CSRF token, same origin, throttling, then
// the password. Success starts a new session (a new id: a session id known
// before sign-in is worth nothing) and goes to next; a failure answers 401
// with the same words and about the same time whether the user exists or
// not.
func (s *Server) handleLogin(c *fiber.Ctx) error {
	if s.deps.Auth.Config().Mode != config.AuthLocal {
		return fiber.NewError(fiber.StatusNotFound, "sign-in with a password is not configured")
	}
	if err := loginOrigin(c); err != nil {
		return err
	}
	form, cookie := c.FormValue("csrf"), c.Cookies(csrfCookie)
	if form == "" || cookie == "" || subtle.ConstantTimeCompare([]byte(form), []byte(cookie)) != 1 {
		c.Status(fiber.StatusForbidden)
		return s.renderPage(c, ui.LoginPage(s.page(), s.loginView(c, "", "The form expired; please sign in again.")))
	}
	name, password := c.FormValue("username"), c.FormValue("password")
	if len(name) > maxLoginLen || len(password) > maxLoginLen {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "user name or password too long")
	}
	addr := clientAddr(c)
	p, err := s.deps.Auth.Local().Login(c.UserContext(), addr, name, []byte(password), s.now())
	if err != nil {
		var te *auth.ThrottledError
		problem := "Wrong user name or password."
		status := fiber.StatusUnauthorized
		switch {
		case errors.As(err, &te):
			wait := auth.RetryAfter(te.Wait)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(wait))
			problem, status = "Too many failed attempts: wait "+strconv.Itoa(wait)+" s and try again.", fiber.StatusTooManyRequests
		case errors.Is(err, auth.ErrBusy):
			c.Set(fiber.HeaderRetryAfter, "2")
			problem, status = "Too many sign-ins at once: try again in a moment.", fiber.StatusServiceUnavailable
		default:
			s.audit(c, name, "sign-in failed")
		}
		c.Status(status)
		return s.renderPage(c, ui.LoginPage(s.page(), s.loginView(c, name, problem)))
	}
	if err := s.startSession(c, p); err != nil {
		return err
	}
	s.setAuthCookie(c, csrfCookie, "", 0)
	s.audit(c, p.Name, "signed in")
	return c.Redirect(localPath(c.FormValue("next")), fiber.StatusSeeOther)
}

// loginOrigin refuses a cross-site login form (login CSRF: signing a
// victim in as the attacker).
func loginOrigin(c *fiber.Ctx) error {
	switch c.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return fiber.NewError(fiber.StatusForbidden, "cross-site sign-in refused")
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" && o != "null" && !sameOrigin(o, c) {
		return fiber.NewError(fiber.StatusForbidden, "cross-origin sign-in refused")
	}
	return nil
}

// startSession ends the browser's previous session, if any, and starts a
// new one for p.
func (s *Server) startSession(c *fiber.Ctx, p auth.Principal) error {
	sessions := s.deps.Auth.Sessions()
	if old := c.Cookies(authCookie); old != "" {
		_ = sessions.Delete(c.UserContext(), old) // unknown or gone: nothing to end
	}
	id, sess, err := sessions.Create(c.UserContext(), p, clientAddr(c).String(), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		return internal(err)
	}
	s.setAuthCookie(c, authCookie, id, time.Until(sess.Expires))
	return nil
}

func (s *Server) handleLogout(c *fiber.Ctx) error {
	p := principal(c)
	if id := c.Cookies(authCookie); id != "" {
		_ = s.deps.Auth.Sessions().Delete(c.UserContext(), id) // already gone: signed out anyway
	}
	s.setAuthCookie(c, authCookie, "", 0)
	if signedIn(p) {
		s.audit(c, p.Name, "signed out")
	}
	return s.afterLogout(c)
}

// handleLogoutEverywhere ends every session of the user, this one too.
func (s *Server) handleLogoutEverywhere(c *fiber.Ctx) error {
	p := principal(c)
	if p.Via == auth.ViaSession {
		n, err := s.deps.Auth.Sessions().DeleteUser(c.UserContext(), p.Name)
		if err != nil {
			return internal(err)
		}
		s.audit(c, p.Name, "signed out everywhere ("+strconv.Itoa(n)+" sessions)")
	}
	s.setAuthCookie(c, authCookie, "", 0)
	return s.afterLogout(c)
}

// goToLogin is what the Sign out button's request gets back: an element
// whose data-on-load expression takes the page to the login form. Not a
// datastar-execute-script: that is an inline script, which the pages'
// Content-Security-Policy blocks (the session would end and the page stay
// put, until a poll or the stream's reconnect met a 401).
const goToLogin = `<div hidden data-on-load="window.location.assign('/login')"></div>`

// afterLogout goes to the login page: a redirect for a form, goToLogin
// for the button of a live page (a Datastar request).
func (s *Server) afterLogout(c *fiber.Ctx) error {
	if c.Get("Datastar-Request") == "true" {
		return hub.SSE(c).Send(hub.PatchElements(goToLogin, hub.WithSelector("body"), hub.WithMergeMode(hub.ModeAppend)))
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (s *Server) handleOIDCStart(c *fiber.Ctx) error {
	o, err := s.deps.Auth.OIDC(c.UserContext())
	if errors.Is(err, auth.ErrNotOIDC) {
		return fiber.NewError(fiber.StatusNotFound, "sign-in with OpenID Connect is not configured")
	} else if err != nil {
		s.log.Warn("OIDC provider unavailable", "err", err)
		return fiber.NewError(fiber.StatusServiceUnavailable, "the sign-in provider cannot be reached; try again later")
	}
	redirect, flow := o.Start(s.now())
	flow.Next = localPath(c.Query("next"))
	c.Cookie(&fiber.Cookie{Name: flowCookie, Value: o.EncodeFlow(flow), Path: "/auth/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https", MaxAge: int(auth.FlowTTL / time.Second)})
	return c.Redirect(redirect, fiber.StatusSeeOther)
}

func (s *Server) handleOIDCCallback(c *fiber.Ctx) error {
	o, err := s.deps.Auth.OIDC(c.UserContext())
	if err != nil {
		return fiber.NewError(fiber.StatusNotFound, "sign-in with OpenID Connect is not configured")
	}
	flow, err := o.DecodeFlow(c.Cookies(flowCookie), s.now())
	c.Cookie(&fiber.Cookie{Name: flowCookie, Value: "", Path: "/auth/", HTTPOnly: true, MaxAge: -1, Expires: time.Unix(1, 0)})
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "the sign-in expired or came from another browser; sign in again")
	}
	query := c.Context().QueryArgs()
	vals := map[string][]string{}
	for k, v := range query.All() {
		vals[string(k)] = append(vals[string(k)], string(v))
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 15*time.Second)
	defer cancel()
	p, err := o.Finish(ctx, flow, vals)
	if err != nil {
		if ok, _ := s.failedAudits.Allow(clientAddr(c).String(), s.now()); ok {
			s.audit(c, "", "OIDC sign-in failed: "+clip(err.Error(), 200))
		}
		if errors.Is(err, auth.ErrNoRole) {
			return fiber.NewError(fiber.StatusForbidden, "your account has no role in dashd (ask an admin to add your group)")
		}
		return fiber.NewError(fiber.StatusUnauthorized, "sign-in failed: "+err.Error())
	}
	if err := s.startSession(c, p); err != nil {
		return err
	}
	s.audit(c, p.Name, "signed in (OIDC)")
	return c.Redirect(localPath(flow.Next), fiber.StatusSeeOther)
}

// audit records what a person did (signed in, out, failed) as an event
// with who and from where.
func (s *Server) audit(c *fiber.Ctx, user, what string) {
	s.deps.Flow.Event(model.Event{Time: s.now(), Kind: model.EventAudit, Reason: what, User: user, Address: clientAddr(c).String()})
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
