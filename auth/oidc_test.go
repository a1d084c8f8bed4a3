package auth

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/dashd/dashd/config"
)

// provider is a real OpenID Connect provider (mockoidc: discovery, JWKS,
// authorize, token with PKCE) on a loopback port in the test process.
type provider struct {
	m  *mockoidc.MockOIDC
	mu *sync.Mutex // serializes its handlers (its session map has no lock) and FastForward
}

func startProvider(t *testing.T) *provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	mu := &sync.Mutex{}
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Errorf("provider shutdown: %v", err)
		}
	})
	return &provider{m: m, mu: mu}
}

func (p *provider) config() config.OIDC {
	c := config.DefaultAuth().OIDC
	c.Issuer = p.m.Issuer()
	c.ClientID = p.m.ClientID
	c.ClientSecret = p.m.ClientSecret
	c.RedirectURL = "http://127.0.0.1:9/auth/callback" // never contacted: the test plays the browser
	c.Scopes = []string{"openid", "profile", "email", "groups"}
	c.Roles = config.RoleGroups{Admin: []string{"admins"}, Operator: []string{"ops"}}
	c.DefaultRole = ""
	return c
}

func (p *provider) fastForward(d time.Duration) {
	p.mu.Lock()
	p.m.FastForward(d)
	p.mu.Unlock()
}

func newOIDC(t *testing.T, cfg config.OIDC) *OIDC {
	t.Helper()
	o, err := NewOIDC(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

// browse plays the browser: it follows the sign-in URL to the provider,
// which signs user in (nil: mockoidc's default user) and redirects back;
// it returns the flow as the cookie brought it back and the callback's
// query.
func browse(t *testing.T, p *provider, o *OIDC, user mockoidc.User) (Flow, url.Values) {
	t.Helper()
	if user != nil {
		p.m.QueueUser(user)
	}
	u, flow := o.Start(time.Now())
	q, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if v := q.Query(); v.Get("code_challenge_method") != "S256" || v.Get("code_challenge") == "" || v.Get("nonce") != flow.Nonce || v.Get("state") != flow.State {
		t.Fatalf("sign-in URL lacks PKCE, nonce or state: %s", u)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	browser := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %s, want a redirect back", resp.Status)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	// The flow travels in the signed cookie.
	got, err := o.DecodeFlow(o.EncodeFlow(flow), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return got, back.Query()
}

func TestOIDC_RoundTrip(t *testing.T) {
	p := startProvider(t)
	tests := []struct {
		name       string
		user       *mockoidc.MockUser
		defaultRol string
		want       Principal
		wantErr    error
	}{
		{"groups claim maps to operator", &mockoidc.MockUser{Subject: "s1", PreferredUsername: "alice", Groups: []string{"staff", "ops"}}, "",
			Principal{Name: "alice", Role: config.RoleOperator, Via: ViaOIDC, Groups: []string{"staff", "ops"}}, nil},
		{"highest group wins: admin", &mockoidc.MockUser{Subject: "s2", PreferredUsername: "root", Groups: []string{"ops", "admins"}}, "",
			Principal{Name: "root", Role: config.RoleAdmin, Via: ViaOIDC, Groups: []string{"ops", "admins"}}, nil},
		{"default role", &mockoidc.MockUser{Subject: "s3", PreferredUsername: "carol", Groups: []string{"sales"}}, config.RoleViewer,
			Principal{Name: "carol", Role: config.RoleViewer, Via: ViaOIDC, Groups: []string{"sales"}}, nil},
		{"verified email when no username", &mockoidc.MockUser{Subject: "s4", Email: "dave@example.org", EmailVerified: true, Groups: []string{"ops"}}, "",
			Principal{Name: "dave@example.org", Role: config.RoleOperator, Via: ViaOIDC, Groups: []string{"ops"}}, nil},
		{"subject when the email is not verified", &mockoidc.MockUser{Subject: "s5", Email: "eve@example.org", Groups: []string{"ops"}}, "",
			Principal{Name: "s5", Role: config.RoleOperator, Via: ViaOIDC, Groups: []string{"ops"}}, nil},
		{"no role at all is refused", &mockoidc.MockUser{Subject: "s6", PreferredUsername: "frank", Groups: []string{"sales"}}, "",
			Principal{}, ErrNoRole},
		{"unusable name", &mockoidc.MockUser{Subject: "s7", PreferredUsername: "gina\nadmin", Groups: []string{"ops"}}, "",
			Principal{}, ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.config()
			cfg.DefaultRole = tt.defaultRol
			o := newOIDC(t, cfg)
			flow, q := browse(t, p, o, tt.user)
			got, err := o.Finish(ctxT(t), flow, q)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Finish error = %v, want %v", err, tt.wantErr)
			}
			if got.Name != tt.want.Name || got.Role != tt.want.Role || got.Via != tt.want.Via || !slices.Equal(got.Groups, tt.want.Groups) {
				t.Fatalf("Finish = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOIDC_Refusals(t *testing.T) {
	p := startProvider(t)
	o := newOIDC(t, p.config())
	user := func() *mockoidc.MockUser {
		return &mockoidc.MockUser{Subject: "s1", PreferredUsername: "alice", Groups: []string{"ops"}}
	}
	tests := []struct {
		name    string
		run     func(t *testing.T) error
		wantErr error
	}{
		{"bad state", func(t *testing.T) error {
			flow, q := browse(t, p, o, user())
			q.Set("state", "forged")
			return finish(t, o, flow, q)
		}, ErrFlow},
		{"another browser's flow", func(t *testing.T) error {
			_, q := browse(t, p, o, user())
			_, other := o.Start(time.Now())
			return finish(t, o, other, q)
		}, ErrFlow},
		{"replayed code", func(t *testing.T) error {
			flow, q := browse(t, p, o, user())
			if err := finish(t, o, flow, q); err != nil {
				t.Fatalf("first use of the code: %v", err)
			}
			return finish(t, o, flow, q)
		}, ErrProvider},
		{"wrong nonce", func(t *testing.T) error {
			flow, q := browse(t, p, o, user())
			flow.Nonce = "another sign-in's nonce"
			return finish(t, o, flow, q)
		}, ErrProvider},
		{"wrong PKCE verifier", func(t *testing.T) error {
			flow, q := browse(t, p, o, user())
			flow.Verifier = "a-stolen-code-without-its-verifier-is-useless-0123"
			return finish(t, o, flow, q)
		}, ErrProvider},
		{"expired ID token", func(t *testing.T) error {
			p.fastForward(-time.Hour) // the provider's clock is an hour behind: its tokens are born expired
			defer p.fastForward(time.Hour)
			flow, q := browse(t, p, o, user())
			return finish(t, o, flow, q)
		}, ErrProvider},
		{"provider refused", func(t *testing.T) error {
			flow, _ := browse(t, p, o, user())
			return finish(t, o, flow, url.Values{"error": {"access_denied"}, "error_description": {"user cancelled"}, "state": {flow.State}})
		}, ErrProvider},
		{"no code", func(t *testing.T) error {
			flow, q := browse(t, p, o, user())
			q.Del("code")
			return finish(t, o, flow, q)
		}, ErrProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Finish = %v, want %v", err, tt.wantErr)
			}
			t.Logf("refused: %v", err)
		})
	}
}

func finish(t *testing.T, o *OIDC, flow Flow, q url.Values) error {
	_, err := o.Finish(ctxT(t), flow, q)
	return err
}

func TestOIDC_WrongAudience(t *testing.T) {
	// dashd configured with another client id than the provider issues
	// tokens for: the provider refuses the client at once (mockoidc checks
	// client ids), so check the verifier itself with a token for another
	// audience.
	p := startProvider(t)
	o := newOIDC(t, p.config())
	flow, q := browse(t, p, o, &mockoidc.MockUser{Subject: "s1", PreferredUsername: "alice", Groups: []string{"ops"}})
	cfg := p.config()
	cfg.ClientID = "another-client"
	other := newOIDC(t, cfg)
	// Same provider, same code exchange (client credentials as the
	// provider knows them), but the ID token's audience is not
	// "another-client".
	other.oauth.ClientID = p.m.ClientID
	_, err := other.Finish(ctxT(t), flow, q)
	if !errors.Is(err, ErrProvider) || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("Finish with a token for another audience = %v, want ErrProvider about the audience", err)
	}
}

func TestNewOIDC_Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := config.DefaultAuth().OIDC
	cfg.Issuer = "http://" + addr + "/oidc"
	if _, err := NewOIDC(ctxT(t), cfg); err == nil {
		t.Fatal("NewOIDC succeeded without a provider")
	}
}
