package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
)

func newLocal(t testing.TB, th *Throttle, gate *Gate) *Local {
	t.Helper()
	if th == nil {
		th = NewThrottle(ThrottleOptions{})
	}
	if gate == nil {
		gate = DefaultGate()
	}
	l, err := NewLocal([]config.User{
		{Name: "alice", PasswordHash: mustHash(t, "wonderland"), Role: config.RoleOperator},
		{Name: "root", PasswordHash: mustHash(t, "toor"), Role: config.RoleAdmin},
	}, gate, th)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLocal_Login(t *testing.T) {
	l := newLocal(t, nil, nil)
	ctx := ctxT(t)
	tests := []struct {
		name, user, password string
		want                 Principal
		wantErr              error
	}{
		{"right password", "alice", "wonderland", Principal{Name: "alice", Role: config.RoleOperator, Via: ViaPassword}, nil},
		{"admin", "root", "toor", Principal{Name: "root", Role: config.RoleAdmin, Via: ViaPassword}, nil},
		{"wrong password", "alice", "toor", Principal{}, ErrBadCredentials},
		{"unknown user", "mallory", "wonderland", Principal{}, ErrBadCredentials},
		{"empty name", "", "wonderland", Principal{}, ErrBadCredentials},
		{"password too long", "alice", string(make([]byte, MaxSecretLen+1)), Principal{}, ErrBadCredentials},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An hour apart: the throttle has forgotten the earlier cases.
			p, err := l.Login(ctx, addr("192.0.2.1"), tt.user, []byte(tt.password), t0.Add(time.Duration(i)*time.Hour))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Login error = %v, want %v", err, tt.wantErr)
			}
			if p.Name != tt.want.Name || p.Role != tt.want.Role || p.Via != tt.want.Via {
				t.Fatalf("Login = %+v, want %+v", p, tt.want)
			}
		})
	}
}

func TestNewLocal_RefusesUnusableHash(t *testing.T) {
	for _, h := range []string{"plaintext", "$argon2id$v=19$m=9999999,t=2,p=1$c2FsdHNhbHQ$" + "AAAAAAAAAAAAAAAAAAAAAA", "$2a$04$short"} {
		_, err := NewLocal([]config.User{{Name: "alice", PasswordHash: h, Role: config.RoleViewer}}, DefaultGate(), NewThrottle(ThrottleOptions{}))
		if !errors.Is(err, ErrBadHash) {
			t.Errorf("NewLocal(hash %q) = %v, want ErrBadHash", h, err)
		}
	}
}

func TestLocal_Throttled(t *testing.T) {
	th := NewThrottle(ThrottleOptions{})
	l := newLocal(t, th, nil)
	ctx := ctxT(t)
	a := addr("192.0.2.1")
	// An unknown name and a wrong password count the same.
	for _, name := range []string{"alice", "nobody", "alice"} {
		if _, err := l.Login(ctx, a, name, []byte("guess"), t0); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("Login = %v", err)
		}
	}
	_, err := l.Login(ctx, a, "alice", []byte("wonderland"), t0)
	var te *ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || te.Wait != time.Second {
		t.Fatalf("fourth attempt = %v, want ErrThrottled with a 1 s wait", err)
	}
	// The right password after the wait, from another address (alice's
	// count is per name too).
	p, err := l.Login(ctx, addr("198.51.100.7"), "alice", []byte("wonderland"), t0.Add(time.Second))
	if err != nil || p.Name != "alice" {
		t.Fatalf("after the wait: %+v, %v", p, err)
	}
}

func TestLocal_BurstSeesEarlierFailures(t *testing.T) {
	// Many guesses sent at once from one address: the gate lets one verify
	// at a time, and each re-checks the throttle, so only the free ones
	// are verified.
	l := newLocal(t, NewThrottle(ThrottleOptions{}), NewGate(1, 64))
	ctx := ctxT(t)
	var mu sync.Mutex
	var results []string
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := l.Login(ctx, addr("192.0.2.1"), "alice", []byte("guess"), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBadCredentials):
				results = append(results, "bad")
			case errors.Is(err, ErrThrottled):
				results = append(results, "throttled")
			default:
				results = append(results, err.Error())
			}
		})
	}
	wg.Wait()
	slices.Sort(results)
	if n := len(slices.DeleteFunc(slices.Clone(results), func(s string) bool { return s != "bad" })); n != 3 {
		t.Fatalf("%d of 10 simultaneous guesses were verified, want the 3 free ones: %v", n, results)
	}
}

func TestGate_Busy(t *testing.T) {
	g := NewGate(1, 1)
	release := make(chan struct{})
	running := make(chan struct{})
	done := make(chan error, 2)
	go func() { done <- g.Do(context.Background(), func() { close(running); <-release }) }()
	<-running
	waiterIn := make(chan struct{})
	go func() {
		close(waiterIn)
		done <- g.Do(context.Background(), func() {})
	}()
	<-waiterIn
	// Wait until the second one queued.
	deadline := time.Now().Add(10 * time.Second)
	for g.waiting.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := g.Do(context.Background(), func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("third Do with one running and one waiting = %v, want ErrBusy", err)
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestLocal_UnknownUserCostsLikeWrongPassword compares, interleaved, the
// time of a sign-in with an unknown name and with a wrong password. The
// bound is generous (a factor of 2 on medians): skipping the hash for an
// unknown name makes it hundreds of times faster.
func TestLocal_UnknownUserCostsLikeWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 24 times")
	}
	l := newLocal(t, NewThrottle(ThrottleOptions{Free: 1000}), nil)
	ctx := ctxT(t)
	var unknown, wrong []time.Duration
	a := addr("192.0.2.1")
	for i := range 12 {
		for _, name := range []string{"alice", "mallory"} {
			start := time.Now()
			_, err := l.Login(ctx, a, name, []byte("guess"), t0.Add(time.Duration(i)*time.Second))
			d := time.Since(start)
			if !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("Login(%s) = %v", name, err)
			}
			if name == "alice" {
				wrong = append(wrong, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	mu, mw := median(unknown), median(wrong)
	t.Logf("median sign-in: unknown user %s, wrong password %s", mu, mw)
	if mu*2 < mw || mw*2 < mu {
		t.Fatalf("unknown user %s vs wrong password %s: more than a factor 2 apart", mu, mw)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func BenchmarkLogin(b *testing.B) {
	l := newLocal(b, NewThrottle(ThrottleOptions{Free: 1 << 30}), nil)
	ctx := context.Background()
	for _, name := range []string{"alice", "mallory"} {
		b.Run(map[string]string{"alice": "wrong-password", "mallory": "unknown-user"}[name], func(b *testing.B) {
			for b.Loop() {
				_, _ = l.Login(ctx, addr("192.0.2.1"), name, []byte("guess"), t0)
			}
		})
	}
}

func TestGate_ContextEnds(t *testing.T) {
	g := NewGate(1, 4)
	release := make(chan struct{})
	running := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- g.Do(context.Background(), func() { close(running); <-release }) }()
	<-running
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ran := false
	if err := g.Do(ctx, func() { ran = true }); !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Fatalf("Do with a slot taken until ctx ended = %v (ran %v), want the deadline error", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g.waiting.Load() != 0 {
		t.Fatalf("%d still counted as waiting", g.waiting.Load())
	}
}
