package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// Service is the auth of a running dashd: the parts the configuration
// describes (local users, tokens, the OIDC provider), rebuilt when a reload
// changes them, around the parts that outlive reloads (sessions, the login
// throttle, the hashing gate). It is safe for concurrent use; run it (its
// session sweeper) with Run.
type Service struct {
	log      *slog.Logger
	sessions *Sessions
	gate     *Gate
	throttle *Throttle

	mu     sync.RWMutex
	cfg    config.Auth
	local  *Local
	tokens *Tokens
	oidc   *OIDC // built on first use in mode oidc (the provider may be down at start)
}

// NewService builds the auth of cfg over db's sessions. It fails on users
// or tokens whose hashes cannot be used.
func NewService(cfg config.Auth, db *storage.DB, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		log:      log,
		sessions: NewSessions(db, SessionOptions{Limits: cfg.Session, Logger: log}),
		gate:     DefaultGate(),
		throttle: NewThrottle(DefaultThrottleOptions()),
	}
	if err := s.build(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// build makes the configuration's parts; s.mu is not held.
func (s *Service) build(cfg config.Auth) error {
	local, err := NewLocal(cfg.Users, s.gate, s.throttle)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	tokens, err := NewTokens(cfg.Tokens, s.gate, s.throttle)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oidc != nil && !reflect.DeepEqual(s.cfg.OIDC, cfg.OIDC) {
		s.oidc.Close()
		s.oidc = nil
	}
	s.cfg, s.local, s.tokens = cfg, local, tokens
	return nil
}

// Apply takes a reloaded configuration: new session limits, the sessions
// of users no longer configured ended (and changed roles applied), users
// and tokens rebuilt. It fails only when the users or tokens cannot be
// used, and then the previous parts stay in force.
func (s *Service) Apply(ctx context.Context, cfg config.Auth) error {
	if err := s.build(cfg); err != nil {
		return err
	}
	s.sessions.SetLimits(cfg.Session)
	ended, changed, err := s.sessions.Prune(ctx, KeepFor(cfg))
	if ended+changed > 0 {
		s.log.Info("sessions updated for the new configuration", "ended", ended, "role_changed", changed)
	}
	if err != nil {
		// The new users and tokens are in force; only the sweep of the
		// old sessions failed, and the next reload or restart retries it.
		s.log.Error("ending the sessions of removed users failed", "err", err)
	}
	return nil
}

// Config is the auth configuration in force.
func (s *Service) Config() config.Auth {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}

// Local is the local users' sign-in.
func (s *Service) Local() *Local {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.local
}

// Tokens is the API tokens' check.
func (s *Service) Tokens() *Tokens {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tokens
}

// Sessions is the browser sessions.
func (s *Service) Sessions() *Sessions { return s.sessions }

// ErrNotOIDC is returned by OIDC when the mode is not oidc.
var ErrNotOIDC = errors.New("auth: sign-in with OpenID Connect is not configured")

// OIDC returns the provider, connecting to it (discovery) on first use:
// a provider that is down at start does not keep dashd from starting.
func (s *Service) OIDC(ctx context.Context) (*OIDC, error) {
	s.mu.RLock()
	o, cfg := s.oidc, s.cfg
	s.mu.RUnlock()
	if cfg.Mode != config.AuthOIDC {
		return nil, ErrNotOIDC
	}
	if o != nil {
		return o, nil
	}
	o, err := NewOIDC(ctx, cfg.OIDC)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oidc != nil { // another request got there first
		o.Close()
		return s.oidc, nil
	}
	s.oidc = o
	return o, nil
}

// Run sweeps expired sessions and writes last-seen times until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer func() {
		s.mu.Lock()
		if s.oidc != nil {
			s.oidc.Close()
		}
		s.mu.Unlock()
	}()
	return s.sessions.Run(ctx)
}
