package channel

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/dashd/dashd/config"
)

// Every channel that connects over TLS verifies the server's certificate
// against the system roots, or against ca_file when set.
// insecure_skip_verify turns verification off (a lab setup); the two do not
// mix.

// validateTLS reports an unreadable ca_file, or one combined with
// insecure_skip_verify, at config time.
func validateTLS(s config.Scope, caFile string, insecure bool) {
	if caFile == "" {
		return
	}
	if insecure {
		s.Errorf("ca_file", "has no effect with insecure_skip_verify: true")
	}
	if _, err := loadCAFile(caFile); err != nil {
		s.Errorf("ca_file", "%v", err)
	}
}

// loadCAFile reads a PEM bundle; "" means the system roots (nil).
func loadCAFile(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// tlsConfig is the client TLS configuration of a channel. serverName is
// set for SMTP (net/http fills it in itself).
func tlsConfig(caFile string, insecure bool, serverName string) (*tls.Config, error) {
	roots, err := loadCAFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	return &tls.Config{
		ServerName:         serverName,
		RootCAs:            roots,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: insecure, //nolint:gosec // operator opt-out, off by default
	}, nil
}
