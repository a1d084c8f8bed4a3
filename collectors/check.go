package collectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// Check is one runnable service check.
//
// Run must honour ctx: when ctx ends (the check's timeout, or the check being
// stopped) it must return promptly. Runs of one check never overlap, so a
// check may keep state between runs (previous CPU times, restart counts).
type Check interface {
	Run(ctx context.Context) Outcome
}

// Outcome is what one run of a check found.
type Outcome struct {
	// State is up, degraded or down; the Runner treats anything else as down.
	State model.State
	// Reason is a short human explanation: "HTTP 503", "connect: connection refused".
	Reason string
	// Latency is what the check measured (connect time, response time); the
	// Runner fills in the wall time of the run when it is zero.
	Latency time.Duration
	// Values holds type-specific figures (http status, cert days left, process RSS...).
	// It is read-only once returned.
	Values map[string]float64
	// Detail is longer text for the check's page (captured command output,
	// the reason a timeout replaced). It does not go into model.Result.
	Detail string
}

// spec is what every check type's config struct implements: package config
// decodes and validates it, build turns the validated value into a Check.
type spec interface {
	config.CheckSpec
	build(c config.Check) (Check, error)
}

// Types is the table of check types, for config.Options.CheckTypes. Each
// constructor returns a spec filled with the type's defaults.
func Types() config.CheckTypes {
	return config.CheckTypes{
		"command": func() config.CheckSpec { return newCommandSpec() },
		"dns":     func() config.CheckSpec { return newDNSSpec() },
		"http":    func() config.CheckSpec { return newHTTPSpec() },
		"process": func() config.CheckSpec { return newProcessSpec() },
		"systemd": func() config.CheckSpec { return newSystemdSpec() },
		"tcp":     func() config.CheckSpec { return newTCPSpec() },
		"tls":     func() config.CheckSpec { return newTLSSpec() },
	}
}

// New builds the runnable check for a validated config.Check (one produced by
// config.Parse with Types). A check that targets dashd itself (self) needs
// the Runner, which knows where dashd listens: New refuses it.
func New(c config.Check) (Check, error) { return newCheck(c, Self{}) }

// newCheck is New with self targets resolved to self.
func newCheck(c config.Check, self Self) (Check, error) {
	c, err := resolveSelf(c, self)
	if err != nil {
		return nil, err
	}
	s, ok := c.Spec.(spec)
	if !ok {
		return nil, fmt.Errorf("collectors: check %q: type %q has no runnable spec (got %T)", c.Name, c.Type, c.Spec)
	}
	ch, err := s.build(c)
	if err != nil {
		return nil, fmt.Errorf("collectors: check %q: %w", c.Name, err)
	}
	return ch, nil
}

// brokenCheck stands in for a check that could not be built, so the problem
// shows on the dashboard instead of the check silently vanishing.
type brokenCheck struct{ reason string }

var _ Check = brokenCheck{}

func (b brokenCheck) Run(context.Context) Outcome {
	return Outcome{State: model.StateDown, Reason: b.reason}
}

func up(reason string) Outcome       { return Outcome{State: model.StateUp, Reason: reason} }
func down(reason string) Outcome     { return Outcome{State: model.StateDown, Reason: reason} }
func degraded(reason string) Outcome { return Outcome{State: model.StateDegraded, Reason: reason} }

func downf(format string, args ...any) Outcome { return down(fmt.Sprintf(format, args...)) }

// maxReason keeps reasons short enough for a badge tooltip and a table cell.
const maxReason = 200

// errReason turns an error into the short reason operators expect
// ("connect: connection refused") instead of Go's full wrapping chain
// (`Get "http://...": dial tcp 127.0.0.1:1: connect: connection refused`).
func errReason(err error) string {
	if err == nil {
		return ""
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by peer"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "resolve " + dnsErr.Name + ": no such host"
		}
		return "resolve " + dnsErr.Name + ": " + dnsErr.Err
	}
	var verifyErr *tls.CertificateVerificationError
	if errors.As(err, &verifyErr) {
		return "TLS: " + certErrText(verifyErr.Err)
	}
	var recordErr tls.RecordHeaderError
	if errors.As(err, &recordErr) {
		return "TLS: server does not speak TLS"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		var sysErr *os.SyscallError
		if errors.As(opErr.Err, &sysErr) {
			return sysErr.Error() // "connect: connection refused"
		}
		if opErr.Timeout() {
			return "timeout"
		}
		return opErr.Op + ": " + opErr.Err.Error()
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return errReason(urlErr.Err)
	}
	return shorten(err.Error(), maxReason)
}

// certErrText names certificate problems without x509's long preambles.
func certErrText(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return "certificate signed by unknown authority"
	case errors.As(err, &host):
		return "certificate is not valid for " + host.Host
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "certificate expired or not yet valid"
		}
		return shorten(invalid.Error(), maxReason)
	}
	return shorten(err.Error(), maxReason)
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// firstLine returns the first non-empty line of s, shortened.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return shorten(l, 120)
		}
	}
	return ""
}

// certDaysLeft is the number of days (fractional) until notAfter.
func certDaysLeft(notAfter, now time.Time) float64 {
	return notAfter.Sub(now).Hours() / 24
}

// expiryReason phrases a certificate's remaining life for a reason string.
func expiryReason(days float64) string {
	switch d := int(days); {
	case days < 0:
		return fmt.Sprintf("certificate expired %s ago", dayWord(int(-days)))
	case d == 0:
		return "certificate expires in less than a day"
	default:
		return "certificate expires in " + dayWord(d)
	}
}

func dayWord(d int) string {
	if d == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", d)
}

// loadCAFile reads a PEM bundle for checks that trust a private CA.
func loadCAFile(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificates found", path)
	}
	return pool, nil
}

// validateCAFile reports an unreadable ca_file at config time, where the
// message can point at the line.
func validateCAFile(s config.Scope, path string) {
	if path == "" {
		return
	}
	if _, err := os.Stat(path); err != nil {
		s.Errorf("ca_file", "cannot read %s: %v", path, errors.Unwrap(err))
	}
}

// validateHostPort reports an address that is not host:port with a numeric port.
func validateHostPort(s config.Scope, key, addr string) {
	if addr == "" {
		s.Required(key, true)
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		s.Errorf(key, "must be host:port, e.g. example.com:443, got %q", addr)
		return
	}
	if host == "" {
		s.Errorf(key, "must name a host, got %q", addr)
	}
	if p, err := net.LookupPort("tcp", port); err != nil || p == 0 {
		s.Errorf(key, "port %q must be a number from 1 to 65535", port)
	}
}

// deadlineFor sets conn's deadline from ctx and closes conn when ctx ends, so
// blocked reads and writes return promptly either way. The returned stop
// function must be called when done with conn.
func deadlineFor(ctx context.Context, conn net.Conn) (stop func() bool) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { _ = conn.Close() })
}
