package collectors

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnsServer answers a fixed zone on 127.0.0.1 (UDP) and NXDOMAIN for the rest.
func dnsServer(t *testing.T) string {
	t.Helper()
	zone := map[uint16][]string{
		dns.TypeA:     {"svc.dashd.test. 60 IN A 127.0.0.1", "svc.dashd.test. 60 IN A 127.0.0.2"},
		dns.TypeAAAA:  {"svc.dashd.test. 60 IN AAAA ::1"},
		dns.TypeMX:    {"svc.dashd.test. 60 IN MX 10 Mail.Dashd.Test."},
		dns.TypeTXT:   {`svc.dashd.test. 60 IN TXT "v=spf1 " "-all"`},
		dns.TypeCNAME: {"www.dashd.test. 60 IN CNAME svc.dashd.test."},
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		for _, s := range zone[q.Qtype] {
			rr, err := dns.NewRR(s)
			if err == nil && strings.EqualFold(rr.Header().Name, q.Name) {
				m.Answer = append(m.Answer, rr)
			}
		}
		if len(m.Answer) == 0 && q.Name != "svc.dashd.test." && q.Name != "www.dashd.test." {
			m.Rcode = dns.RcodeNameError
		}
		if q.Name == "broken.dashd.test." {
			m.Rcode = dns.RcodeServerFailure
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown(); <-done })
	return pc.LocalAddr().String()
}

func TestDNSCheck_Server(t *testing.T) {
	server := dnsServer(t)
	// A UDP port with nobody behind it: queries go unanswered until the timeout.
	deaf, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer deaf.Close()

	tests := []struct {
		name, body, state, reason string
		answers                   float64
	}{
		{"A", "query: svc.dashd.test\nserver: " + server, "up", "A 127.0.0.1, 127.0.0.2", 2},
		{"A expected", "query: svc.dashd.test\nserver: " + server + "\nexpect: [127.0.0.2]", "up", "A 127.0.0.1", 2},
		{"A missing expected", "query: svc.dashd.test\nserver: " + server + "\nexpect: [10.0.0.9]", "down", "A svc.dashd.test: missing 10.0.0.9 (got 127.0.0.1, 127.0.0.2)", 2},
		{"AAAA", "query: svc.dashd.test\nrecord: aaaa\nserver: " + server + "\nexpect: ['0:0::1']", "up", "AAAA ::1", 1},
		{"CNAME", "query: www.dashd.test.\nrecord: CNAME\nserver: " + server + "\nexpect: [svc.dashd.test]", "up", "CNAME svc.dashd.test.", 1},
		{"MX by host", "query: svc.dashd.test\nrecord: MX\nserver: " + server + "\nexpect: [mail.dashd.test]", "up", "MX 10 Mail.Dashd.Test.", 1},
		{"MX with preference", "query: svc.dashd.test\nrecord: MX\nserver: " + server + "\nexpect: ['10 mail.dashd.test.']", "up", "MX", 1},
		{"TXT", "query: svc.dashd.test\nrecord: TXT\nserver: " + server + "\nexpect: ['v=spf1 -all']", "up", "TXT v=spf1 -all", 1},
		{"no records of that type", "query: www.dashd.test\nrecord: TXT\nserver: " + server, "down", "no TXT records for www.dashd.test", 0},
		{"NXDOMAIN", "query: nope.dashd.test\nserver: " + server, "down", "A nope.dashd.test: NXDOMAIN", 0},
		{"SERVFAIL", "query: broken.dashd.test\nserver: " + server, "down", "SERVFAIL", 0},
		{"no answer", "query: svc.dashd.test\nserver: " + deaf.LocalAddr().String(), "down", "timeout", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, mustBuild(t, "dns", tt.body), 500*time.Millisecond)
			assertOutcome(t, out, tt.state, tt.reason)
			if out.Values["answers"] != tt.answers {
				t.Errorf("answers = %v, want %v", out.Values["answers"], tt.answers)
			}
		})
	}
}

func TestDNSCheck_SystemResolver(t *testing.T) {
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil || !strings.Contains(string(hosts), "localhost") {
		t.Skip("SKIPPED: /etc/hosts has no localhost entry; the system resolver test needs one")
	}
	out := run(t, mustBuild(t, "dns", "query: localhost\nexpect: [127.0.0.1]"), 5*time.Second)
	assertOutcome(t, out, "up", "A 127.0.0.1")
	out = run(t, mustBuild(t, "dns", "query: nonexistent.invalid"), 5*time.Second)
	assertOutcome(t, out, "down", "nonexistent.invalid")
}

func TestDNSServerAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.1.1.1", "1.1.1.1:53"},
		{"1.1.1.1:5353", "1.1.1.1:5353"},
		{"::1", "[::1]:53"},
		{"[::1]:54", "[::1]:54"},
		{"ns.example.com", "ns.example.com:53"},
		{"host:", ""},
	}
	for _, tt := range tests {
		got, err := dnsServerAddr(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("dnsServerAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
