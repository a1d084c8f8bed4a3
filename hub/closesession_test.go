package hub

import "testing"

func TestHub_CloseSession(t *testing.T) {
	e := newEnv(t, nil, nil)
	tab1 := e.open(t, q("session", "s1", "room", "r"))
	tab2 := e.open(t, q("session", "s1", "room", "r"))
	other := e.open(t, q("session", "s2", "room", "r"))
	eventually(t, "3 streams", func() bool { return e.hub.ClientCount() == 3 })

	if n := e.hub.CloseSession("s1"); n != 2 {
		t.Fatalf("CloseSession(s1) = %d, want 2", n)
	}
	if n := e.hub.CloseSession("s1"); n != 0 {
		t.Errorf("second CloseSession(s1) = %d, want 0", n)
	}
	if n := e.hub.CloseSession(""); n != 0 {
		t.Errorf(`CloseSession("") = %d, want 0`, n)
	}
	// ended fails the test if a stream stays open.
	_ = tab1.ended(t)
	_ = tab2.ended(t)
	// The other session is untouched and still receives.
	e.hub.BroadcastToRoom("r", PatchElements(frag("x", "after")))
	other.expectFragment(t, frag("x", "after"))
	st := e.hub.Stats()
	if st.Clients != 1 || st.Evictions != 0 {
		t.Errorf("Stats() = %+v, want 1 client and no evictions (a closed session is not a slow client)", st)
	}
}
