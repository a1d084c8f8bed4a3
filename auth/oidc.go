package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dashd/dashd/config"
)

// oidcTimeout bounds every request to the provider (discovery, the code
// exchange, its keys).
const oidcTimeout = 10 * time.Second

// OIDC signs users in with an OpenID Connect provider: the authorization
// code flow with PKCE (S256), a nonce, and a state checked against a
// signed cookie. The provider's groups claim maps to roles as in
// auth.oidc.roles. Safe for concurrent use.
//
// The server's part: GET /auth/login calls Start, sets the flow cookie
// (EncodeFlow) and redirects to the URL; the provider sends the browser
// back to auth.oidc.redirect_url, where the server reads the cookie
// (DecodeFlow), deletes it, calls Finish with the query and, with the
// Principal it returns, Sessions.Create.
type OIDC struct {
	cfg      config.OIDC
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
	key      []byte // signs flow cookies; never leaves the process
}

// NewOIDC discovers the provider at cfg.Issuer (its
// /.well-known/openid-configuration, whose issuer must be cfg.Issuer
// exactly) and prepares sign-ins for cfg.ClientID. It fails when the
// provider cannot be reached: the server decides whether to start without
// sign-in or retry. Flow cookies are signed with a random key made here,
// so sign-ins in progress when dashd restarts must start again.
func NewOIDC(ctx context.Context, cfg config.OIDC) (*OIDC, error) {
	// A transport of its own, so Close can drop its idle connections.
	client := &http.Client{Timeout: oidcTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	dctx, cancel := context.WithTimeout(ctx, oidcTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(oidc.ClientContext(dctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: oidc: discover %s: %w", cfg.Issuer, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("auth: oidc: %w", err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = config.DefaultAuth().OIDC.Scopes
	}
	hasOpenID := false
	for _, s := range scopes {
		hasOpenID = hasOpenID || s == oidc.ScopeOpenID
	}
	if !hasOpenID {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = config.DefaultAuth().OIDC.GroupsClaim
	}
	return &OIDC{
		cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: scopes},
		// The key set is fetched (and refetched on an unknown key id) with
		// client, whose timeout bounds it.
		verifier: provider.VerifierContext(oidc.ClientContext(context.Background(), client), &oidc.Config{ClientID: cfg.ClientID}),
		client:   client,
		key:      key,
	}, nil
}

// Start begins a sign-in at now: the provider URL to redirect the browser
// to, and the Flow to keep in the browser's flow cookie (EncodeFlow).
func (o *OIDC) Start(now time.Time) (redirectURL string, flow Flow) {
	flow = newFlow(now, oauth2.GenerateVerifier())
	return o.oauth.AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)), flow
}

// Close drops the idle connections to the provider; call it when a
// reload replaces this OIDC or at shutdown. Sign-ins still running finish.
func (o *OIDC) Close() { o.client.CloseIdleConnections() }

// EncodeFlow is the flow cookie's value: f signed with this OIDC's key.
func (o *OIDC) EncodeFlow(f Flow) string { return encodeFlow(o.key, f) }

// DecodeFlow reads a flow cookie: an error wrapping ErrFlow when it is
// missing, not signed by this process, unreadable or older than FlowTTL.
func (o *OIDC) DecodeFlow(cookie string, now time.Time) (Flow, error) {
	return decodeFlow(o.key, cookie, now)
}

// Finish completes a sign-in from the provider's redirect back (its query:
// state and code, or error): it checks the state against flow, exchanges
// the code (with the PKCE verifier), verifies the ID token (signature,
// issuer, audience, expiry, then the nonce and the access token hash),
// and returns the user: Via ViaOIDC, Name the preferred_username claim,
// else the email if the provider says it is verified, else the subject;
// Groups from auth.oidc.groups_claim; the highest role they map to, else
// default_role.
//
// Errors: ErrFlow (state mismatch: not this browser's sign-in),
// ErrProvider (the provider refused, the code was already used, the token
// does not verify, the nonce differs), ErrBadName, ErrNoRole (a known
// user without any role: the server answers 403 saying so). The error
// texts are fit for a log line, not for the page.
func (o *OIDC) Finish(ctx context.Context, flow Flow, query url.Values) (Principal, error) {
	if e := query.Get("error"); e != "" {
		return Principal{}, fmt.Errorf("auth: oidc: %w: the provider answered %q: %s", ErrProvider,
			boundText(e, 64), boundText(query.Get("error_description"), 256))
	}
	state := query.Get("state")
	if flow.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(flow.State)) != 1 {
		return Principal{}, fmt.Errorf("auth: oidc: %w: state does not match this browser's sign-in", ErrFlow)
	}
	code := query.Get("code")
	if code == "" || len(code) > 4096 {
		return Principal{}, fmt.Errorf("auth: oidc: %w: no usable code", ErrProvider)
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.client), oidcTimeout)
	defer cancel()
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Principal{}, fmt.Errorf("auth: oidc: %w: code exchange refused: %s %s", ErrProvider,
				boundText(re.ErrorCode, 64), boundText(re.ErrorDescription, 256))
		}
		return Principal{}, fmt.Errorf("auth: oidc: %w: code exchange: %v", ErrProvider, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Principal{}, fmt.Errorf("auth: oidc: %w: no ID token in the provider's answer", ErrProvider)
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return Principal{}, fmt.Errorf("auth: oidc: %w: ID token: %v", ErrProvider, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return Principal{}, fmt.Errorf("auth: oidc: %w: ID token nonce does not match this sign-in (a replayed token?)", ErrProvider)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Principal{}, fmt.Errorf("auth: oidc: %w: %v", ErrProvider, err)
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Principal{}, fmt.Errorf("auth: oidc: %w: ID token claims: %v", ErrProvider, err)
	}
	name := userName(claims, idt.Subject)
	if !validName(name) {
		return Principal{}, fmt.Errorf("auth: oidc: %w: %q", ErrBadName, boundText(name, MaxNameLen))
	}
	groups := cleanGroups(stringList(claims[o.cfg.GroupsClaim]))
	role := RoleFor(groups, o.cfg.Roles, o.cfg.DefaultRole)
	if role == "" {
		return Principal{}, fmt.Errorf("auth: oidc: user %q: %w: none of their groups %q is in auth.oidc.roles and auth.oidc.default_role is empty",
			name, ErrNoRole, groups)
	}
	return Principal{Name: name, Role: role, Via: ViaOIDC, Groups: groups}, nil
}

// userName picks the user's name from ID token claims: preferred_username,
// else a verified email, else the subject.
func userName(claims map[string]any, sub string) string {
	if s, _ := claims["preferred_username"].(string); s != "" {
		return s
	}
	if s, _ := claims["email"].(string); s != "" {
		if v, _ := claims["email_verified"].(bool); v {
			return s
		}
	}
	return sub
}

// stringList reads a groups claim: a JSON list of strings (others are
// skipped) or one string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, min(len(v), 4*maxGroups))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
			if len(out) == cap(out) {
				break
			}
		}
		return out
	}
	return nil
}
