package lifecycle

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder notes the order in which parts stop.
type recorder struct {
	mu    sync.Mutex
	order []string
}

func (r *recorder) part(name string, err error) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		r.mu.Lock()
		r.order = append(r.order, name)
		r.mu.Unlock()
		return err
	}
}

func TestGroup_StopsInReverseOrder(t *testing.T) {
	var r recorder
	g := New(nil)
	for _, n := range []string{"storage", "hub", "checks", "http"} {
		if err := g.Go(n, r.part(n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.order, ","); got != "http,checks,hub,storage" {
		t.Fatalf("stop order %s", got)
	}
	if err := g.Go("late", r.part("late", nil)); !errors.Is(err, ErrStopped) {
		t.Fatalf("Go after Stop: %v", err)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestGroup_ErrorsAreJoined(t *testing.T) {
	var r recorder
	g := New(nil)
	_ = g.Go("a", r.part("a", errors.New("flush failed")))
	_ = g.Go("b", r.part("b", context.Canceled)) // a normal stop
	err := g.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "a: flush failed") || strings.Contains(err.Error(), "b:") {
		t.Fatalf("Stop = %v", err)
	}
}

func TestGroup_EarlyEndFails(t *testing.T) {
	tests := []struct {
		name string
		run  func(context.Context) error
		want string
	}{
		{"error", func(context.Context) error { return errors.New("listener closed") }, "http: listener closed"},
		{"nil", func(context.Context) error { return nil }, "http: returned early"},
		{"panic", func(context.Context) error { panic("boom") }, "http: panic: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			g := New(nil)
			_ = g.Go("storage", r.part("storage", nil))
			_ = g.Go("http", tt.run)
			select {
			case <-g.Failed():
			case <-time.After(5 * time.Second):
				t.Fatal("Failed never fired")
			}
			if err := g.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err = %v, want %q", err, tt.want)
			}
			_ = g.Stop(context.Background())
			if len(r.order) != 1 {
				t.Fatalf("storage not stopped after a failure: %v", r.order)
			}
		})
	}
}

func TestGroup_StopTimeout(t *testing.T) {
	g := New(nil)
	release := make(chan struct{})
	stuck := make(chan struct{})
	_ = g.Go("stuck", func(ctx context.Context) error {
		<-ctx.Done()
		close(stuck)
		<-release
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := g.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "stuck") {
		t.Fatalf("Stop = %v, want a timeout naming the stuck part", err)
	}
	<-stuck
	close(release) // let it go, for goleak
	time.Sleep(10 * time.Millisecond)
}
