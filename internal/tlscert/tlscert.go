// Package tlscert serves a certificate and key from PEM files and swaps in
// new ones without a restart: certificates are renewed (ACME, cert-manager,
// an internal CA) far more often than daemons are restarted, and a restart
// would drop every open dashboard stream.
//
// The pair in force is replaced only by a pair that loads: a renewal caught
// half-written (the certificate already new, the key still old) is refused,
// logged, and retried at the next change or reload, while the old pair keeps
// serving.
package tlscert

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Cert is the certificate dashd serves. It is safe for concurrent use.
type Cert struct {
	certFile, keyFile string
	log               *slog.Logger

	mu  sync.Mutex // serialises Reload
	cur atomic.Pointer[loaded]
	// failed identifies the last refused state of the files (guarded by
	// mu): the certificate and key watches and SIGHUP may all ask for a
	// reload of one broken renewal, which is one error in the log, not
	// one per ask.
	failed [sha256.Size]byte
}

type loaded struct {
	cert     *tls.Certificate
	notAfter time.Time
}

// Load reads the pair; it fails when they do not make a usable pair.
func Load(certFile, keyFile string, log *slog.Logger) (*Cert, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cert{certFile: certFile, keyFile: keyFile, log: log}
	l, _, err := c.readState()
	if err != nil {
		return nil, err
	}
	c.cur.Store(l)
	return c, nil
}

// readState reads the pair and also returns what identifies the state of
// the files read, usable or not.
func (c *Cert) readState() (*loaded, [sha256.Size]byte, error) {
	certPEM, cerr := os.ReadFile(c.certFile)
	keyPEM, kerr := os.ReadFile(c.keyFile)
	h := sha256.New()
	for _, b := range [][]byte{certPEM, keyPEM} {
		_ = binary.Write(h, binary.BigEndian, uint64(len(b))) // a hash.Hash never fails
		h.Write(b)
	}
	var state [sha256.Size]byte
	if err := errors.Join(cerr, kerr); err != nil {
		h.Write([]byte(err.Error())) // missing and unreadable differ
		h.Sum(state[:0])
		return nil, state, fmt.Errorf("tls: certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	h.Sum(state[:0])
	l, err := parse(certPEM, keyPEM)
	if err != nil {
		err = fmt.Errorf("tls: certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	return l, state, err
}

func parse(certPEM, keyPEM []byte) (*loaded, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &loaded{cert: &pair, notAfter: leaf.NotAfter}, nil
}

// Reload reads the files again and, when they make a usable pair that
// differs from the one in force, serves it from the next handshake on.
// Connections already open keep theirs. On an error the old pair stays;
// the error is logged once per state of the files (asking again about an
// unchanged broken renewal returns the error without logging it again).
func (c *Cert) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, state, err := c.readState()
	if err != nil {
		if state != c.failed {
			c.failed = state
			c.log.Error("new certificate not loaded; still serving the old one", "err", err,
				"expires", c.cur.Load().notAfter)
		} else {
			c.log.Debug("certificate files unchanged since the last refusal", "err", err)
		}
		return err
	}
	c.failed = [sha256.Size]byte{}
	if same(c.cur.Load().cert, l.cert) {
		return nil
	}
	c.cur.Store(l)
	c.log.Info("certificate reloaded", "cert_file", c.certFile, "expires", l.notAfter)
	return nil
}

func same(a, b *tls.Certificate) bool {
	if len(a.Certificate) != len(b.Certificate) {
		return false
	}
	for i := range a.Certificate {
		if string(a.Certificate[i]) != string(b.Certificate[i]) {
			return false
		}
	}
	return true
}

// NotAfter is when the certificate in force expires.
func (c *Cert) NotAfter() time.Time { return c.cur.Load().notAfter }

// Files are the certificate and key paths, for watching.
func (c *Cert) Files() []string { return []string{c.certFile, c.keyFile} }

// Config is the server TLS configuration: the current pair at every
// handshake, TLS 1.2 at least, and HTTP/1.1 only (the server does not
// speak HTTP/2; put Caddy in front for it).
func (c *Cert) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load().cert, nil
		},
	}
}
