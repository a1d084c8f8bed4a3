package collectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// TLSSpec configures a tls check: handshake, verify the chain, and watch the
// certificate's expiry.
type TLSSpec struct {
	Address string `yaml:"address"`
	// ServerName is sent as SNI and verified against the certificate;
	// default: the host part of Address.
	ServerName string `yaml:"server_name"`
	// WarnDays: a certificate expiring within this many days is degraded.
	WarnDays int `yaml:"warn_days"`
	// CriticalDays: expiring within this many days is down.
	CriticalDays int `yaml:"critical_days"`
	// CAFile is a PEM bundle trusted instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify reports an invalid chain (chain_valid 0) without
	// marking the check down; expiry still counts.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Defaults of a tls check.
const (
	DefaultTLSWarnDays     = 14
	DefaultTLSCriticalDays = 3
)

func newTLSSpec() *TLSSpec {
	return &TLSSpec{WarnDays: DefaultTLSWarnDays, CriticalDays: DefaultTLSCriticalDays}
}

// Validate reports problems with positions.
func (t *TLSSpec) Validate(s config.Scope) {
	validateHostPort(s, "address", t.Address)
	if t.WarnDays < 0 || t.WarnDays > 3650 {
		s.Errorf("warn_days", "must be between 0 and 3650, got %d", t.WarnDays)
	}
	if t.CriticalDays < 0 || t.CriticalDays > 3650 {
		s.Errorf("critical_days", "must be between 0 and 3650, got %d", t.CriticalDays)
	} else if t.CriticalDays > t.WarnDays && t.WarnDays >= 0 {
		s.Errorf("critical_days", "must not be more than warn_days (%d), got %d", t.WarnDays, t.CriticalDays)
	}
	validateCAFile(s, t.CAFile)
}

type tlsCheck struct {
	address, serverName string
	warnDays, critDays  int
	roots               *x509.CertPool
	skipVerify          bool
}

var _ Check = (*tlsCheck)(nil)

func (t *TLSSpec) build(config.Check) (Check, error) {
	roots, err := loadCAFile(t.CAFile)
	if err != nil {
		return nil, err
	}
	name := t.ServerName
	if name == "" {
		host, _, err := net.SplitHostPort(t.Address)
		if err != nil {
			return nil, fmt.Errorf("address: %w", err)
		}
		name = host
	}
	return &tlsCheck{
		address: t.Address, serverName: name,
		warnDays: t.WarnDays, critDays: t.CriticalDays,
		roots: roots, skipVerify: t.InsecureSkipVerify,
	}, nil
}

// Run handshakes and judges the certificates the server presented.
func (t *tlsCheck) Run(ctx context.Context) Outcome {
	start := time.Now()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", t.address)
	if err != nil {
		return down(errReason(err))
	}
	defer raw.Close()
	// Verification is done by hand below, so an untrusted or expired
	// certificate still yields its expiry date.
	conn := tls.Client(raw, &tls.Config{ServerName: t.serverName, InsecureSkipVerify: true}) //nolint:gosec // verified below
	if err := conn.HandshakeContext(ctx); err != nil {
		return downf("TLS handshake: %s", errReason(err))
	}
	latency := time.Since(start)
	certs := conn.ConnectionState().PeerCertificates
	_ = conn.Close()
	if len(certs) == 0 {
		return down("TLS: no certificate presented")
	}
	out := t.judge(certs, time.Now())
	out.Latency = latency
	return out
}

// judge is pure so expiry and chain rules are testable with any clock.
func (t *tlsCheck) judge(certs []*x509.Certificate, now time.Time) Outcome {
	soonest := certs[0]
	for _, c := range certs[1:] {
		if c.NotAfter.Before(soonest.NotAfter) {
			soonest = c
		}
	}
	days := certDaysLeft(soonest.NotAfter, now)
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, verr := certs[0].Verify(x509.VerifyOptions{
		DNSName: t.serverName, Roots: t.roots, Intermediates: inter, CurrentTime: now,
	})
	chainValid := 0.0
	if verr == nil {
		chainValid = 1
	}
	values := map[string]float64{"days_left": days, "chain_valid": chainValid}
	var out Outcome
	switch {
	case days < 0:
		out = down(expiryReason(days))
	case verr != nil && !t.skipVerify:
		out = down("TLS: " + certErrText(verr))
	case days < float64(t.critDays):
		out = down(expiryReason(days))
	case days < float64(t.warnDays):
		out = degraded(expiryReason(days))
	default:
		out = Outcome{State: model.StateUp, Reason: fmt.Sprintf("certificate valid for %s", dayWord(int(days)))}
	}
	out.Values = values
	return out
}
