package server

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestServer_ShutdownBeforeServe: a stop that arrives while dashd is still
// starting (Shutdown before Serve got going) must still end Serve, or the
// daemon would hang on its way out.
func TestServer_ShutdownBeforeServe(t *testing.T) {
	e := newAPIEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve after Shutdown is still serving")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after Serve returned")
	}
}
