package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFlow_EncodeDecode(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f := newFlow(t0, "verifier")
	f.Next = "/checks/web"
	good := encodeFlow(key, f)

	payload, sig, _ := strings.Cut(good, ".")
	other := newFlow(t0, "verifier")
	otherPayload, _, _ := strings.Cut(encodeFlow(key, other), ".")
	tests := []struct {
		name    string
		cookie  string
		key     []byte
		now     time.Time
		wantErr bool
	}{
		{"round trip", good, key, t0.Add(time.Minute), false},
		{"at the TTL", good, key, t0.Add(FlowTTL), false},
		{"expired", good, key, t0.Add(FlowTTL + time.Second), true},
		{"from the future", good, key, t0.Add(-2 * time.Minute), true},
		{"another key (a restart)", good, []byte("another key of 32 bytes........."), t0, true},
		{"payload swapped", otherPayload + "." + sig, key, t0, true},
		{"payload edited", base64.RawURLEncoding.EncodeToString([]byte(`{"s":"x","n":"y","v":"z","c":"2026-03-02T09:00:00Z"}`)) + "." + sig, key, t0, true},
		{"no signature", payload, key, t0, true},
		{"empty", "", key, t0, true},
		{"huge", strings.Repeat("A", maxFlowCookie+1), key, t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeFlow(tt.key, tt.cookie, tt.now)
			if tt.wantErr {
				if !errors.Is(err, ErrFlow) {
					t.Fatalf("decodeFlow = %+v, %v; want ErrFlow", got, err)
				}
				return
			}
			if err != nil || got.State != f.State || got.Nonce != f.Nonce || got.Verifier != f.Verifier || !got.Created.Equal(f.Created) || got.Next != f.Next {
				t.Fatalf("decodeFlow = %+v, %v; want %+v", got, err, f)
			}
		})
	}
	if f.State == other.State || f.Nonce == other.Nonce || len(f.State) != 43 {
		t.Fatal("flows do not get fresh 256-bit state and nonce")
	}
}
