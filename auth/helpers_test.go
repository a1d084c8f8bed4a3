package auth

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// t0 is a fixed instant for tests that pass times explicitly.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// openDB opens a real storage file in t.TempDir() with its writer
// running; cleanup stops the writer and closes the file. Its clock (for
// retention) is clock, or t0 when nil: sessions made at t0 must not look
// ancient to a retention pass going by the real time.
func openDB(t testing.TB, path string, clock func() time.Time) *storage.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "dashd.db")
	}
	opts := storage.DefaultOptions()
	opts.Logger = quiet()
	opts.Timeout = 5 * time.Second
	opts.InitialMmapSize = 1 << 20
	opts.Clock = func() time.Time { return t0 }
	if clock != nil {
		opts.Clock = clock
	}
	db, err := storage.Open(path, opts)
	if err != nil {
		t.Fatalf("storage.Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("storage Run: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("storage Close: %v", err)
		}
	})
	return db
}

// mustHash hashes secret with Hash (tens of milliseconds).
func mustHash(t testing.TB, secret string) string {
	t.Helper()
	h, err := Hash([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func limits(idle, abs time.Duration) config.Session {
	return config.Session{Idle: config.Duration(idle), Absolute: config.Duration(abs)}
}
