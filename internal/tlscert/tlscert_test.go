package tlscert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test: nothing that
// expires is checked in.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(t),
		Subject:               pkix.Name{CommonName: "dashd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// pair is a leaf certificate for 127.0.0.1 and its key, PEM encoded.
type pair struct {
	cert, key []byte
	serial    *big.Int
	notAfter  time.Time
}

// leaf issues a new certificate (new key, new serial) for 127.0.0.1.
func (ca *testCA) leaf(t *testing.T) pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial := randSerial(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		// Each leaf expires at its own second (renewals move NotAfter),
		// truncated to seconds as the certificate keeps it.
		NotAfter:    time.Now().Add(time.Hour + time.Duration(serial.Int64()%3600)*time.Second).Truncate(time.Second),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pair{
		cert:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:      pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		serial:   tmpl.SerialNumber,
		notAfter: tmpl.NotAfter,
	}
}

func randSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// replace writes data to path the way certbot and cert-manager do: a new
// file renamed over the old one, so a reader never sees half of it.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// files writes p into dir and returns the certificate and key paths.
func files(t *testing.T, dir string, p pair) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	replace(t, certFile, p.cert)
	replace(t, keyFile, p.key)
	return certFile, keyFile
}

// logBuf collects log lines; slog handlers may write from any goroutine.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count is how many lines contain sub.
func (l *logBuf) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), sub)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	buf := &logBuf{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// served is the certificate a handshake would get now.
func served(t *testing.T, c *Cert) *tls.Certificate {
	t.Helper()
	got, err := c.Config().GetCertificate(&tls.ClientHelloInfo{ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("GetCertificate: %v", err)
	}
	return got
}

func servedSerial(t *testing.T, c *Cert) *big.Int {
	t.Helper()
	got := served(t, c)
	leaf, err := x509.ParseCertificate(got.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber
}

const (
	errMismatch = "private key does not match public key"
	logFailed   = "new certificate not loaded; still serving the old one"
	logReloaded = "certificate reloaded"
)

func TestTLSCert_LoadRefusals(t *testing.T) {
	ca := newCA(t)
	a, b := ca.leaf(t), ca.leaf(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certA, keyA, keyB := write("a.crt", a.cert), write("a.key", a.key), write("b.key", b.key)
	garbage := write("garbage.pem", []byte("not a certificate\n"))
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name              string
		certFile, keyFile string
		want              []string // in the error text
	}{
		{"missing certificate", missing, keyA, []string{missing, "no such file"}},
		{"missing key", certA, missing, []string{missing, "no such file"}},
		{"key of another certificate", certA, keyB, []string{certA, keyB, errMismatch}},
		{"certificate is not PEM", garbage, keyA, []string{garbage, "failed to find any PEM data"}},
		{"key is not PEM", certA, garbage, []string{garbage, "failed to find any PEM data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.certFile, tt.keyFile, nil)
			if err == nil {
				t.Fatalf("Load(%s, %s) = %v, want an error", tt.certFile, tt.keyFile, c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	t.Run("a good pair", func(t *testing.T) {
		c, err := Load(certA, keyA, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := servedSerial(t, c); got.Cmp(a.serial) != 0 {
			t.Fatalf("serves serial %s, want %s", got, a.serial)
		}
		if !c.NotAfter().Equal(a.notAfter) {
			t.Fatalf("NotAfter = %s, want %s", c.NotAfter(), a.notAfter)
		}
	})
}

func TestTLSCert_Reload(t *testing.T) {
	ca := newCA(t)
	tests := []struct {
		name string
		// renew changes the files (old is the pair loaded, renewed a new one).
		renew      func(t *testing.T, certFile, keyFile string, renewed pair)
		wantErr    string
		wantNew    bool
		wantLogged string // the one log line Reload writes ("": none)
	}{
		{"renewal by rename", func(t *testing.T, certFile, keyFile string, renewed pair) {
			replace(t, keyFile, renewed.key)
			replace(t, certFile, renewed.cert)
		}, "", true, logReloaded},
		{"renewal written in place", func(t *testing.T, certFile, keyFile string, renewed pair) {
			if err := os.WriteFile(certFile, renewed.cert, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keyFile, renewed.key, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", true, logReloaded},
		{"half-written renewal: new certificate, old key", func(t *testing.T, certFile, _ string, renewed pair) {
			replace(t, certFile, renewed.cert)
		}, errMismatch, false, logFailed},
		{"half-written renewal: new key, old certificate", func(t *testing.T, _, keyFile string, renewed pair) {
			replace(t, keyFile, renewed.key)
		}, errMismatch, false, logFailed},
		{"truncated certificate", func(t *testing.T, certFile, _ string, renewed pair) {
			replace(t, certFile, renewed.cert[:len(renewed.cert)/2])
		}, "failed to find any PEM data", false, logFailed},
		{"certificate removed", func(t *testing.T, certFile, _ string, _ pair) {
			if err := os.Remove(certFile); err != nil {
				t.Fatal(err)
			}
		}, "no such file", false, logFailed},
		{"nothing changed", func(*testing.T, string, string, pair) {}, "", false, ""},
		{"same pair written again", func(t *testing.T, certFile, keyFile string, _ pair) {
			data, err := os.ReadFile(certFile)
			if err != nil {
				t.Fatal(err)
			}
			replace(t, certFile, data)
		}, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, renewed := ca.leaf(t), ca.leaf(t)
			certFile, keyFile := files(t, t.TempDir(), old)
			log, logs := newLog()
			c, err := Load(certFile, keyFile, log)
			if err != nil {
				t.Fatal(err)
			}
			before := served(t, c)

			tt.renew(t, certFile, keyFile, renewed)
			err = c.Reload()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Reload = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Reload = %v, want an error saying %q", err, tt.wantErr)
			}

			want, wantNotAfter := old.serial, old.notAfter
			if tt.wantNew {
				want, wantNotAfter = renewed.serial, renewed.notAfter
			}
			if got := servedSerial(t, c); got.Cmp(want) != 0 {
				t.Fatalf("serves serial %s after Reload, want %s", got, want)
			}
			if !c.NotAfter().Equal(wantNotAfter) {
				t.Fatalf("NotAfter = %s, want %s", c.NotAfter(), wantNotAfter)
			}
			if !tt.wantNew && served(t, c) != before {
				t.Fatal("the pair in force was replaced although nothing new was loaded")
			}
			lines := strings.Count(strings.TrimSpace(logs.String()), "\n") + 1
			if tt.wantLogged == "" {
				if s := strings.TrimSpace(logs.String()); s != "" {
					t.Fatalf("Reload logged although nothing changed:\n%s", s)
				}
			} else if logs.count(tt.wantLogged) != 1 || lines != 1 {
				t.Fatalf("log = %q, want one line %q", logs.String(), tt.wantLogged)
			}
			if tt.wantLogged == logFailed && !strings.Contains(logs.String(), certFile) {
				t.Fatalf("the error line does not name the certificate file %s:\n%s", certFile, logs)
			}
		})
	}
}

// TestTLSCert_BrokenRenewalLoggedOnce: the certificate and key watches and
// SIGHUP may all ask for a reload of the same broken renewal; it is one
// error in the log, not one per ask, until the files change again.
func TestTLSCert_BrokenRenewalLoggedOnce(t *testing.T) {
	ca := newCA(t)
	old, renewed, other := ca.leaf(t), ca.leaf(t), ca.leaf(t)
	certFile, keyFile := files(t, t.TempDir(), old)
	log, logs := newLog()
	c, err := Load(certFile, keyFile, log)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		change     func()
		wantErr    bool
		wantFailed int // error lines logged so far
		wantSerial *big.Int
	}{
		{"renewal with the wrong key", func() { replace(t, certFile, renewed.cert); replace(t, keyFile, other.key) }, true, 1, old.serial},
		{"asked again", func() {}, true, 1, old.serial},
		{"and again", func() {}, true, 1, old.serial},
		{"another broken state", func() { replace(t, keyFile, old.key) }, true, 2, old.serial},
		{"the renewal completes", func() { replace(t, keyFile, renewed.key) }, false, 2, renewed.serial},
		{"broken again", func() { replace(t, keyFile, other.key) }, true, 3, renewed.serial},
	}
	for _, s := range steps {
		s.change()
		err := c.Reload()
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: Reload = %v, want error %v", s.name, err, s.wantErr)
		}
		if n := logs.count(logFailed); n != s.wantFailed {
			t.Fatalf("%s: %d error lines, want %d:\n%s", s.name, n, s.wantFailed, logs)
		}
		if got := servedSerial(t, c); got.Cmp(s.wantSerial) != 0 {
			t.Fatalf("%s: serves serial %s, want %s", s.name, got, s.wantSerial)
		}
	}
}

// TestTLSCert_HandshakesGetTheRenewedCertificate runs real TLS handshakes
// on a loopback listener: a connection made after Reload gets the new
// certificate, one made before keeps working.
func TestTLSCert_HandshakesGetTheRenewedCertificate(t *testing.T) {
	ca := newCA(t)
	old, renewed := ca.leaf(t), ca.leaf(t)
	certFile, keyFile := files(t, t.TempDir(), old)
	c, err := Load(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	if cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2 at least", cfg.MinVersion)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { // echo until the client closes
				defer wg.Done()
				defer conn.Close()
				b := make([]byte, 64)
				for {
					n, err := conn.Read(b)
					if err != nil {
						return
					}
					if _, err := conn.Write(b[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })

	dial := func() (*tls.Conn, *big.Int) {
		t.Helper()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		return conn, conn.ConnectionState().PeerCertificates[0].SerialNumber
	}
	echo := func(conn *tls.Conn) {
		t.Helper()
		if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte("ping")); err != nil {
			t.Fatalf("write on the open connection: %v", err)
		}
		b := make([]byte, 4)
		if _, err := conn.Read(b); err != nil || string(b) != "ping" {
			t.Fatalf("echo on the open connection = %q, %v", b, err)
		}
	}

	first, serial := dial()
	defer first.Close()
	if serial.Cmp(old.serial) != 0 {
		t.Fatalf("first handshake got serial %s, want %s", serial, old.serial)
	}
	echo(first)
	replace(t, keyFile, renewed.key)
	replace(t, certFile, renewed.cert)
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	second, serial := dial()
	defer second.Close()
	if serial.Cmp(renewed.serial) != 0 {
		t.Fatalf("handshake after Reload got serial %s, want the renewed %s", serial, renewed.serial)
	}
	echo(first)
	echo(second)
}

// TestTLSCert_ConcurrentHandshakesAndReloads is for the race detector:
// handshakes read the pair while renewals replace it.
func TestTLSCert_ConcurrentHandshakesAndReloads(t *testing.T) {
	ca := newCA(t)
	pairs := []pair{ca.leaf(t), ca.leaf(t), ca.leaf(t)}
	certFile, keyFile := files(t, t.TempDir(), pairs[0])
	c, err := Load(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, p := range pairs {
		known[p.serial.String()] = true
	}
	get := c.Config().GetCertificate
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := get(&tls.ClientHelloInfo{})
				if err != nil {
					errs <- err
					return
				}
				leaf, err := x509.ParseCertificate(got.Certificate[0])
				if err != nil {
					errs <- err
					return
				}
				if !known[leaf.SerialNumber.String()] {
					errs <- fmt.Errorf("served serial %s, which was never configured", leaf.SerialNumber)
					return
				}
				_ = c.NotAfter()
			}
		}()
	}
	for i := range 60 {
		// Both files move to the next pair; the reloads in between see a
		// half-renewed state and must refuse it.
		p := pairs[(i+1)%len(pairs)]
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Reload() }()
		replace(t, certFile, p.cert)
		replace(t, keyFile, p.key)
		if err := c.Reload(); err != nil {
			t.Fatalf("Reload after a complete renewal: %v", err)
		}
		if got := servedSerial(t, c); got.Cmp(p.serial) != 0 {
			t.Fatalf("renewal %d: serves %s, want %s", i, got, p.serial)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
