package system

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

// defaultStatfsTimeout bounds a statfs on a network filesystem.
const defaultStatfsTimeout = time.Second

// remoteFS reports whether a filesystem type can block statfs(2) for as long
// as its server is unreachable (the classic hung NFS mount).
func remoteFS(fstype string) bool {
	for _, p := range []string{"nfs", "cifs", "smb", "9p", "ceph", "glusterfs", "lustre", "afs", "davfs", "fuse."} {
		if strings.HasPrefix(fstype, p) {
			return true
		}
	}
	return false
}

// stuckMounts tracks network mounts whose statfs has not returned. It is the
// one piece of Sampler state shared with other goroutines (the stuck calls).
type stuckMounts struct {
	mu sync.Mutex
	m  map[string]bool
}

// fsUsage returns a mount's usage. Local filesystems are asked directly; a
// network filesystem is asked from its own goroutine, and when no answer comes
// within the timeout the tick moves on and the mount is skipped (reported as
// an error) until that call returns, so one dead server costs one goroutine,
// not one per tick, and never stalls the other figures (node_exporter does
// the same).
func (s *Sampler) fsUsage(ctx context.Context, m mount) (*disk.UsageStat, error) {
	if !remoteFS(m.FSType) {
		return wrapStatfs(m.Mount)(s.usage(ctx, m.Mount))
	}
	st := &s.stuck
	st.mu.Lock()
	if st.m[m.Mount] {
		st.mu.Unlock()
		return nil, fmt.Errorf("statfs %s still has not returned; skipped", m.Mount)
	}
	st.mu.Unlock()

	type result struct {
		u   *disk.UsageStat
		err error
	}
	ch := make(chan result, 1)
	go func() {
		u, err := s.usage(context.WithoutCancel(ctx), m.Mount)
		st.mu.Lock()
		ch <- result{u, err}
		delete(st.m, m.Mount)
		st.mu.Unlock()
	}()
	timer := time.NewTimer(s.statfsTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return wrapStatfs(m.Mount)(r.u, r.err)
	case <-timer.C:
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	select {
	case r := <-ch: // answered while the timer fired
		return wrapStatfs(m.Mount)(r.u, r.err)
	default:
	}
	if st.m == nil {
		st.m = map[string]bool{}
	}
	st.m[m.Mount] = true
	return nil, fmt.Errorf("statfs %s: no answer within %v; skipped until it returns", m.Mount, s.statfsTimeout)
}

// wrapStatfs names the mount in a statfs error.
func wrapStatfs(mount string) func(*disk.UsageStat, error) (*disk.UsageStat, error) {
	return func(u *disk.UsageStat, err error) (*disk.UsageStat, error) {
		if err != nil {
			return nil, fmt.Errorf("statfs %s: %w", mount, err)
		}
		return u, nil
	}
}
