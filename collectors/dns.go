package collectors

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/miekg/dns"
)

// DNSSpec configures a dns check: resolve Query and, when Expect is set,
// require every expected value among the answers.
//
// The key is `query`, not `name`: `name` is the check's own name.
type DNSSpec struct {
	// Query is the name to resolve.
	Query string `yaml:"query"`
	// Record is A, AAAA, CNAME, MX or TXT (default A).
	Record string `yaml:"record"`
	// Server is host or host:port of a DNS server asked directly; empty means
	// the host's resolver (/etc/hosts and resolv.conf, as applications see it).
	Server string `yaml:"server"`
	// Expect lists values that must all be among the answers: addresses for
	// A/AAAA, host names for CNAME, "host" or "preference host" for MX, the
	// text for TXT. Names compare case-insensitively, trailing dot optional.
	Expect []string `yaml:"expect"`
}

func newDNSSpec() *DNSSpec { return &DNSSpec{Record: "A"} }

var dnsRecords = map[string]uint16{
	"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "MX": dns.TypeMX, "TXT": dns.TypeTXT,
}

// Validate reports problems with positions.
func (d *DNSSpec) Validate(s config.Scope) {
	s.Required("query", d.Query == "")
	rec := strings.ToUpper(d.Record)
	if _, ok := dnsRecords[rec]; !ok {
		s.Errorf("record", "must be one of A, AAAA, CNAME, MX, TXT, got %q", d.Record)
	}
	if d.Server != "" {
		if _, err := dnsServerAddr(d.Server); err != nil {
			s.Errorf("server", "%v", err)
		}
	}
	for i, e := range d.Expect {
		item := s.Index("expect", i)
		ip := net.ParseIP(e)
		switch {
		case strings.TrimSpace(e) == "":
			item.Errorf("", "must not be empty")
		case rec == "A" && (ip == nil || ip.To4() == nil):
			item.Errorf("", "%q is not an IPv4 address", e)
		case rec == "AAAA" && (ip == nil || ip.To4() != nil):
			item.Errorf("", "%q is not an IPv6 address", e)
		}
	}
}

// dnsServerAddr accepts host or host:port (port 53 by default).
func dnsServerAddr(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("must be host or host:port, got %q", s)
		}
		return s, nil
	}
	if strings.Contains(s, " ") || strings.Count(s, ":") == 1 {
		return "", fmt.Errorf("must be host or host:port, got %q", s)
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53"), nil
}

type dnsCheck struct {
	query  string
	record string
	qtype  uint16
	server string
	expect []string
}

var _ Check = (*dnsCheck)(nil)

func (d *DNSSpec) build(config.Check) (Check, error) {
	rec := strings.ToUpper(d.Record)
	qtype, ok := dnsRecords[rec]
	if !ok {
		return nil, fmt.Errorf("record: unsupported %q", d.Record)
	}
	dc := &dnsCheck{query: d.Query, record: rec, qtype: qtype}
	if d.Server != "" {
		addr, err := dnsServerAddr(d.Server)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		dc.server = addr
	}
	for _, e := range d.Expect {
		dc.expect = append(dc.expect, normalizeDNS(rec, e))
	}
	return dc, nil
}

// Run resolves and compares.
func (d *dnsCheck) Run(ctx context.Context) Outcome {
	start := time.Now()
	var (
		answers []string
		fail    string
	)
	if d.server != "" {
		answers, fail = d.askServer(ctx)
	} else {
		answers, fail = d.askSystem(ctx)
	}
	latency := time.Since(start)
	out := d.judge(answers, fail)
	out.Latency = latency
	out.Values = map[string]float64{"answers": float64(len(answers))}
	return out
}

func (d *dnsCheck) judge(answers []string, fail string) Outcome {
	if fail != "" {
		return down(fail)
	}
	if len(answers) == 0 {
		return downf("no %s records for %s", d.record, d.query)
	}
	got := make([]string, len(answers))
	for i, a := range answers {
		got[i] = normalizeDNS(d.record, a)
	}
	for _, want := range d.expect {
		if !slices.Contains(got, want) && !(d.record == "MX" && mxHostIn(want, got)) {
			return downf("%s %s: missing %s (got %s)", d.record, d.query, want, shorten(strings.Join(answers, ", "), 80))
		}
	}
	return up(shorten(d.record+" "+strings.Join(answers, ", "), 120))
}

// mxHostIn lets "mail.example.com" match an answer "10 mail.example.com".
func mxHostIn(want string, got []string) bool {
	for _, g := range got {
		if _, host, ok := strings.Cut(g, " "); ok && host == want {
			return true
		}
	}
	return false
}

func normalizeDNS(record, v string) string {
	v = strings.TrimSpace(v)
	switch record {
	case "A", "AAAA":
		if ip := net.ParseIP(v); ip != nil {
			return ip.String()
		}
		return v
	case "TXT":
		return v
	}
	return strings.TrimSuffix(strings.ToLower(v), ".")
}

// askServer queries d.server directly (UDP, TCP when the answer is truncated)
// so the check sees exactly what that server says, rcode included.
func (d *dnsCheck) askServer(ctx context.Context) ([]string, string) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(d.query), d.qtype)
	c := &dns.Client{Net: "udp"}
	if dl, ok := ctx.Deadline(); ok {
		// miekg/dns caps each read at 2s unless told otherwise.
		c.Timeout = time.Until(dl)
	}
	resp, _, err := c.ExchangeContext(ctx, m, d.server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, d.server)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, errReason(ctx.Err())
		}
		return nil, "query " + d.server + ": " + errReason(err)
	}
	if resp.Rcode != dns.RcodeSuccess {
		return nil, fmt.Sprintf("%s %s: %s", d.record, d.query, dns.RcodeToString[resp.Rcode])
	}
	var out []string
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype != d.qtype {
			continue // the CNAME chain in front of an A answer
		}
		switch v := rr.(type) {
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		case *dns.CNAME:
			out = append(out, v.Target)
		case *dns.MX:
			out = append(out, fmt.Sprintf("%d %s", v.Preference, v.Mx))
		case *dns.TXT:
			out = append(out, strings.Join(v.Txt, ""))
		}
	}
	return out, ""
}

// askSystem uses the host's resolver, the way other programs on the host resolve.
func (d *dnsCheck) askSystem(ctx context.Context) ([]string, string) {
	var r net.Resolver
	var out []string
	var err error
	switch d.qtype {
	case dns.TypeA, dns.TypeAAAA:
		network := "ip4"
		if d.qtype == dns.TypeAAAA {
			network = "ip6"
		}
		var ips []net.IP
		ips, err = r.LookupIP(ctx, network, d.query)
		for _, ip := range ips {
			out = append(out, ip.String())
		}
	case dns.TypeCNAME:
		var cname string
		cname, err = r.LookupCNAME(ctx, d.query)
		if err == nil && !strings.EqualFold(strings.TrimSuffix(cname, "."), strings.TrimSuffix(d.query, ".")) {
			out = append(out, cname)
		}
	case dns.TypeMX:
		var mxs []*net.MX
		mxs, err = r.LookupMX(ctx, d.query)
		for _, mx := range mxs {
			out = append(out, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
		}
	case dns.TypeTXT:
		out, err = r.LookupTXT(ctx, d.query)
	}
	if err != nil {
		return nil, errReason(err)
	}
	return out, ""
}
