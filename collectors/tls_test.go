package collectors

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTLSCheck(t *testing.T) {
	ca := newTestCA(t)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	addr := func(url string) string { return strings.TrimPrefix(url, "https://") }
	valid := addr(tlsServer(t, ca.leaf(t, time.Now().Add(90*24*time.Hour+time.Hour)), ok).URL)
	expiring := addr(tlsServer(t, ca.leaf(t, time.Now().Add(3*24*time.Hour+time.Hour)), ok).URL)
	expired := addr(tlsServer(t, ca.leaf(t, time.Now().Add(-49*time.Hour)), ok).URL)
	plain := tcpServer(t, func(c net.Conn) { c.Write([]byte("220 not TLS\r\n")) })

	tests := []struct {
		name, body, state, reason string
		chainValid                float64
		days                      float64 // whole days expected, -99 to skip
	}{
		{"valid chain", "address: " + valid + "\nca_file: " + ca.pemFile, "up", "certificate valid for 90 days", 1, 90},
		{"server_name checked", "address: " + valid + "\nserver_name: localhost\nca_file: " + ca.pemFile, "up", "valid", 1, 90},
		{"wrong server_name", "address: " + valid + "\nserver_name: other.test\nca_file: " + ca.pemFile, "down", "TLS: certificate is not valid for other.test", 0, 90},
		{"unknown authority", "address: " + valid, "down", "TLS: certificate signed by unknown authority", 0, 90},
		{"unknown authority accepted", "address: " + valid + "\ninsecure_skip_verify: true", "up", "valid for 90 days", 0, 90},
		{"warn", "address: " + expiring + "\nca_file: " + ca.pemFile, "degraded", "certificate expires in 3 days", 1, 3},
		{"critical", "address: " + expiring + "\ncritical_days: 5\nca_file: " + ca.pemFile, "down", "certificate expires in 3 days", 1, 3},
		{"expired", "address: " + expired + "\nca_file: " + ca.pemFile, "down", "certificate expired 2 days ago", 0, -2},
		{"not TLS", "address: " + plain, "down", "TLS handshake: TLS: server does not speak TLS", -1, -99},
		{"refused", "address: 127.0.0.1:1", "down", "connect: connection refused", -1, -99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, mustBuild(t, "tls", tt.body), 5*time.Second)
			assertOutcome(t, out, tt.state, tt.reason)
			if tt.chainValid >= 0 && out.Values["chain_valid"] != tt.chainValid {
				t.Errorf("chain_valid = %v, want %v", out.Values["chain_valid"], tt.chainValid)
			}
			if tt.days != -99 && int(out.Values["days_left"]) != int(tt.days) {
				t.Errorf("days_left = %v, want %v", out.Values["days_left"], tt.days)
			}
		})
	}
}
