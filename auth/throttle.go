package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"sync"
	"time"
)

// ThrottleOptions shapes the delays after failed sign-ins. Zero fields
// take the defaults of DefaultThrottleOptions.
type ThrottleOptions struct {
	// Free is how many failures of one key cost nothing (default 3).
	Free int
	// Window forgets a key this long after its last failure (default
	// 15 min): Free failures are free again.
	Window time.Duration
	// Base is the wait after failure Free, doubled by each later one
	// (default 1 s), up to Max (default 5 min).
	Base time.Duration
	Max  time.Duration
	// MaxKeys bounds the addresses and, separately, the user names
	// remembered (default 10000 each).
	MaxKeys int
}

// DefaultThrottleOptions: three failures free within 15 minutes, then
// 1 s, 2 s, 4 s... up to 5 minutes between attempts.
func DefaultThrottleOptions() ThrottleOptions {
	return ThrottleOptions{Free: 3, Window: 15 * time.Minute, Base: time.Second, Max: 5 * time.Minute, MaxKeys: 10000}
}

// Throttle slows down guessing: it counts failed sign-ins per client
// address and per user name (unknown names and wrong passwords alike) and
// says how long the next attempt must wait. The two counts are separate
// and the longer wait wins, so neither many names from one address nor one
// name from many addresses gets far.
//
// IPv6 addresses count per /64, the block one client usually controls.
// Memory is bounded: at MaxKeys entries, forgotten ones go first, then
// those with the fewest failures, so a flood of new names or addresses
// cannot push out the count of the name under attack.
//
// A user under attack waits too (at most Max between attempts): that is
// the price of slowing the attacker, and it ends Window after the attack.
// Succeeded clears the user's count, not the address's: a valid account
// must not let its holder keep guessing others' passwords from the same
// address. Throttle is safe for concurrent use.
type Throttle struct {
	opts  ThrottleOptions
	mu    sync.Mutex
	addrs map[string]*failures
	users map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

// NewThrottle returns an empty throttle.
func NewThrottle(opts ThrottleOptions) *Throttle {
	d := DefaultThrottleOptions()
	if opts.Free <= 0 {
		opts.Free = d.Free
	}
	if opts.Window <= 0 {
		opts.Window = d.Window
	}
	if opts.Base <= 0 {
		opts.Base = d.Base
	}
	if opts.Max <= 0 {
		opts.Max = d.Max
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = d.MaxKeys
	}
	return &Throttle{opts: opts, addrs: map[string]*failures{}, users: map[string]*failures{}}
}

// Check returns how long the client at addr must wait before trying user
// (0: go ahead). An empty user checks the address alone (bearer tokens).
// Call it before verifying anything.
func (t *Throttle) Check(addr netip.Addr, user string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.wait(t.addrs[addrKey(addr)], now)
	if user != "" {
		w = max(w, t.wait(t.users[userKey(user)], now))
	}
	return w
}

// Failed counts a failed attempt from addr for user (both, or the address
// alone when user is "").
func (t *Throttle) Failed(addr netip.Addr, user string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail(t.addrs, addrKey(addr), now)
	if user != "" {
		t.fail(t.users, userKey(user), now)
	}
}

// Succeeded clears the count of user after a successful sign-in. The
// address keeps its count (see Throttle).
func (t *Throttle) Succeeded(_ netip.Addr, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.users, userKey(user))
}

// Keys reports how many addresses and user names are remembered.
func (t *Throttle) Keys() (addrs, users int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.addrs), len(t.users)
}

// wait is the delay f imposes at now; t.mu is held.
func (t *Throttle) wait(f *failures, now time.Time) time.Duration {
	if f == nil || t.expired(f, now) || f.n < t.opts.Free {
		return 0
	}
	d := t.opts.Base
	for i := t.opts.Free; i < f.n && d < t.opts.Max; i++ {
		d *= 2
	}
	d = min(d, t.opts.Max)
	return max(0, f.last.Add(d).Sub(now))
}

func (t *Throttle) expired(f *failures, now time.Time) bool {
	return now.Sub(f.last) > t.opts.Window
}

// fail counts one failure of key in m; t.mu is held.
func (t *Throttle) fail(m map[string]*failures, key string, now time.Time) {
	f := m[key]
	if f == nil {
		if len(m) >= t.opts.MaxKeys {
			t.evict(m, now)
		}
		f = &failures{}
		m[key] = f
	}
	if t.expired(f, now) {
		f.n = 0
	}
	f.n++
	if now.After(f.last) {
		f.last = now
	}
}

// evict makes room in m: it drops every forgotten entry, and if none was,
// the one with the fewest failures (the oldest of those). t.mu is held.
func (t *Throttle) evict(m map[string]*failures, now time.Time) {
	var victim string
	var vf *failures
	for k, f := range m {
		if t.expired(f, now) {
			delete(m, k)
			continue
		}
		if vf == nil || f.n < vf.n || (f.n == vf.n && f.last.Before(vf.last)) {
			victim, vf = k, f
		}
	}
	if len(m) >= t.opts.MaxKeys && vf != nil {
		delete(m, victim)
	}
}

// addrKey is the throttle key of a client address: IPv4 as is, IPv6 by
// its /64.
func addrKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String() // "invalid IP" for the zero Addr: one shared key
}

// userKey bounds the memory a user name key takes.
func userKey(name string) string {
	if len(name) <= 2*MaxNameLen {
		return "u:" + name
	}
	h := sha256.Sum256([]byte(name))
	return "h:" + hex.EncodeToString(h[:])
}
