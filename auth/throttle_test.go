package auth

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestThrottle_Delays(t *testing.T) {
	a := addr("192.0.2.1")
	// Failures at t0+at[i]; wait[i] is Check's answer right after failure i.
	tests := []struct {
		name string
		at   []time.Duration
		want []time.Duration
	}{
		{"three free, then 1 s doubling", []time.Duration{0, 0, 0, 0, 0, 0},
			[]time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{"the wait runs from the last failure", []time.Duration{0, 0, 0, 10 * time.Second},
			[]time.Duration{0, 0, time.Second, 2 * time.Second}},
		{"forgotten after the window", []time.Duration{0, 0, 0, 16 * time.Minute, 16 * time.Minute},
			[]time.Duration{0, 0, time.Second, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThrottle(ThrottleOptions{})
			for i, d := range tt.at {
				now := t0.Add(d)
				th.Failed(a, "alice", now)
				if got := th.Check(a, "alice", now); got != tt.want[i] {
					t.Fatalf("after failure %d at +%s: wait %s, want %s", i+1, d, got, tt.want[i])
				}
			}
		})
	}
}

func TestThrottle_CapAndExpiry(t *testing.T) {
	th := NewThrottle(ThrottleOptions{})
	a := addr("192.0.2.1")
	for range 40 {
		th.Failed(a, "alice", t0)
	}
	if got := th.Check(a, "alice", t0); got != 5*time.Minute {
		t.Fatalf("wait after 40 failures = %s, want the 5 min cap", got)
	}
	if got := th.Check(a, "alice", t0.Add(5*time.Minute)); got != 0 {
		t.Fatalf("wait once the delay passed = %s", got)
	}
}

func TestThrottle_KeysAreSeparate(t *testing.T) {
	tests := []struct {
		name        string
		failAddr    string
		failUser    string
		checkAddr   string
		checkUser   string
		wantBlocked bool
	}{
		{"same user, other address", "192.0.2.1", "alice", "198.51.100.9", "alice", true},
		{"same address, other user", "192.0.2.1", "alice", "192.0.2.1", "bob", true},
		{"other address and user", "192.0.2.1", "alice", "198.51.100.9", "bob", false},
		{"IPv6 counts per /64", "2001:db8:1:2::1", "alice", "2001:db8:1:2:ffff::9", "bob", true},
		{"other /64", "2001:db8:1:2::1", "alice", "2001:db8:1:3::1", "bob", false},
		{"IPv4-mapped is IPv4", "::ffff:192.0.2.1", "alice", "192.0.2.1", "bob", true},
		{"address only (tokens)", "192.0.2.1", "", "192.0.2.1", "", true},
		{"tokens do not count against users", "192.0.2.1", "", "198.51.100.9", "alice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThrottle(ThrottleOptions{})
			for range 3 {
				th.Failed(addr(tt.failAddr), tt.failUser, t0)
			}
			if got := th.Check(addr(tt.checkAddr), tt.checkUser, t0) > 0; got != tt.wantBlocked {
				t.Fatalf("blocked = %v, want %v", got, tt.wantBlocked)
			}
		})
	}
}

func TestThrottle_SucceededClearsUserOnly(t *testing.T) {
	th := NewThrottle(ThrottleOptions{})
	a := addr("192.0.2.1")
	for range 3 {
		th.Failed(a, "alice", t0)
	}
	th.Succeeded(a, "alice")
	if w := th.Check(addr("198.51.100.9"), "alice", t0); w != 0 {
		t.Fatalf("alice still waits %s after signing in", w)
	}
	if w := th.Check(a, "bob", t0); w == 0 {
		t.Fatal("a success cleared the address's failures")
	}
}

func TestThrottle_BoundedKeys(t *testing.T) {
	th := NewThrottle(ThrottleOptions{MaxKeys: 100})
	a := addr("192.0.2.1")
	// The name under attack has many failures...
	for range 10 {
		th.Failed(a, "alice", t0)
	}
	// ...then a flood of new names (and addresses) tries to push it out.
	for i := range 5000 {
		th.Failed(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), fmt.Sprint("user", i), t0.Add(time.Second))
	}
	na, nu := th.Keys()
	if na > 100 || nu > 100 {
		t.Fatalf("remembering %d addresses and %d names, bound is 100", na, nu)
	}
	if w := th.Check(addr("198.51.100.9"), "alice", t0.Add(time.Second)); w == 0 {
		t.Fatal("the flood of new names evicted the count of the name under attack")
	}
	// Forgotten entries make room first.
	th.Failed(a, "late", t0.Add(time.Hour))
	if na, nu := th.Keys(); na > 100 || nu > 2 {
		t.Fatalf("after the window: %d addresses, %d names (expired ones not dropped)", na, nu)
	}
}
