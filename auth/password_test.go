package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHash_PHCForm(t *testing.T) {
	h1 := mustHash(t, "correct horse")
	h2 := mustHash(t, "correct horse")
	if !phcRE.MatchString(h1) {
		t.Fatalf("Hash = %q, not $argon2id$v=19$m=19456,t=2,p=1$<16-byte salt>$<32-byte key>", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one secret are equal: the salt is not random")
	}
	if _, err := Hash(nil); err == nil {
		t.Error("Hash(empty) succeeded")
	}
	if _, err := Hash(make([]byte, MaxSecretLen+1)); !errors.Is(err, ErrSecretTooLong) {
		t.Errorf("Hash(too long) = %v", err)
	}
}

func TestVerify(t *testing.T) {
	argon := mustHash(t, "s3cret")
	bc, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bcrypt2y := "$2y$" + strings.TrimPrefix(string(bc), "$2a$")
	// Each parameter changed alone in a well-formed hash.
	mut := func(old, new string) string { return strings.Replace(argon, old, new, 1) }
	tests := []struct {
		name    string
		hash    string
		secret  string
		want    bool
		wantErr error
	}{
		{"argon2id right", argon, "s3cret", true, nil},
		{"argon2id wrong", argon, "s3creT", false, nil},
		{"argon2id empty secret", argon, "", false, nil},
		{"bcrypt 2a right", string(bc), "s3cret", true, nil},
		{"bcrypt 2a wrong", string(bc), "nope", false, nil},
		{"bcrypt 2y right", bcrypt2y, "s3cret", true, nil},
		{"plaintext", "s3cret", "s3cret", false, ErrBadHash},
		{"argon2i", strings.Replace(argon, "argon2id", "argon2i", 1), "s3cret", false, ErrBadHash},
		{"version 16", mut("v=19", "v=16"), "s3cret", false, ErrBadHash},
		{"memory beyond bound", mut("m=19456", "m=1048576"), "s3cret", false, ErrBadHash},
		{"time beyond bound", mut("t=2", "t=100"), "s3cret", false, ErrBadHash},
		{"no threads", mut("p=1", "p=0"), "s3cret", false, ErrBadHash},
		{"missing parameter", mut(",p=1", ""), "s3cret", false, ErrBadHash},
		{"unknown parameter", mut("p=1", "p=1,x=2"), "s3cret", false, ErrBadHash},
		{"bad salt", mut("$argon2id$v=19$m=19456,t=2,p=1$", "$argon2id$v=19$m=19456,t=2,p=1$!!"), "s3cret", false, ErrBadHash},
		{"truncated", argon[:len(argon)-30], "s3cret", false, ErrBadHash},
		{"bcrypt cost beyond bound", "$2a$31$" + string(bc)[7:], "s3cret", false, ErrBadHash},
		{"secret too long", argon, strings.Repeat("x", MaxSecretLen+1), false, ErrSecretTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.hash, []byte(tt.secret))
			if got != tt.want {
				t.Errorf("Verify = %v, want %v (err %v)", got, tt.want, err)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDummyHash_MatchesParameters(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("x"), 5)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, like string
		want       *regexp.Regexp
	}{
		{"argon2id with other parameters", "$argon2id$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
			regexp.MustCompile(`^\$argon2id\$v=19\$m=4096,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)},
		{"bcrypt cost 5", string(bc), regexp.MustCompile(`^\$2a\$05\$`)},
		{"unusable: defaults", "garbage", phcRE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DummyHash(tt.like)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want.MatchString(d) {
				t.Fatalf("DummyHash(%q) = %q, want %s", tt.like, d, tt.want)
			}
			if ok, err := Verify(d, []byte("")); ok || err != nil {
				t.Fatalf("Verify(dummy, \"\") = %v, %v", ok, err)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := Hash([]byte("benchmark"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("argon2id", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := Verify(h, []byte("benchmark")); !ok {
				b.Fatal("no match")
			}
		}
	})
	b.Run("dummy", func(b *testing.B) {
		for b.Loop() {
			VerifyDummy([]byte("benchmark"))
		}
	})
}
