package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The argon2id parameters Hash uses: OWASP's first recommended set
// (Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1). It is the
// cheapest of the sets OWASP lists as equally strong, which suits a small
// daemon: one verification costs about 19 MiB of memory for tens of
// milliseconds of one core, and dashd verifies only at sign-in and for a
// token it has not seen yet (see Tokens). The salt is 16 random bytes, the
// key 32.
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters Verify accepts: a hash in the configuration
// that asked for more would let one sign-in take the daemon's memory or
// minutes of CPU.
const (
	maxArgonMemory = 256 << 10 // KiB (256 MiB)
	maxArgonTime   = 16
	maxArgonP      = 16
	maxBcryptCost  = 15
)

// MaxSecretLen bounds a password or token: longer ones are refused
// before any hashing.
const MaxSecretLen = 1024

// Hash returns the argon2id hash of secret as a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64):
// what `dashd passwd` prints and password_hash and tokens' hash hold.
func Hash(secret []byte) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: hash: empty secret")
	}
	if len(secret) > MaxSecretLen {
		return "", fmt.Errorf("auth: hash: %w (%d bytes, at most %d)", ErrSecretTooLong, len(secret), MaxSecretLen)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash: salt: %w", err)
	}
	p := argonParams{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	return p.encode(argon2.IDKey(secret, salt, p.time, p.memory, p.threads, argonKeyLen)), nil
}

// Verify reports whether secret matches hash, an argon2id PHC string or a
// bcrypt hash ($2a$, $2b$, $2y$; bcrypt only reads the first 72 bytes of
// a secret). The comparison is constant-time. A malformed hash, or one
// whose cost is beyond dashd's bounds, gives an error wrapping ErrBadHash;
// a secret over MaxSecretLen one wrapping ErrSecretTooLong.
func Verify(hash string, secret []byte) (bool, error) {
	if len(secret) > MaxSecretLen {
		return false, fmt.Errorf("auth: verify: %w", ErrSecretTooLong)
	}
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, key, err := parseArgon(hash)
		if err != nil {
			return false, fmt.Errorf("auth: verify: %w: %v", ErrBadHash, err)
		}
		got := argon2.IDKey(secret, p.salt, p.time, p.memory, p.threads, uint32(len(key)))
		return subtle.ConstantTimeCompare(got, key) == 1, nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return false, fmt.Errorf("auth: verify: %w: %v", ErrBadHash, err)
		}
		if cost > maxBcryptCost {
			return false, fmt.Errorf("auth: verify: %w: bcrypt cost %d, at most %d", ErrBadHash, cost, maxBcryptCost)
		}
		err = bcrypt.CompareHashAndPassword([]byte(hash), secret)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		}
		return false, fmt.Errorf("auth: verify: %w: %v", ErrBadHash, err)
	}
	return false, fmt.Errorf("auth: verify: %w: neither argon2id nor bcrypt", ErrBadHash)
}

// VerifyDummy does the work of Verify against a hash made by Hash and
// answers false: the path for an unknown user, so that it costs what a
// wrong password costs. Local uses DummyHash instead, to match the
// parameters of the configured hashes.
func VerifyDummy(secret []byte) {
	if len(secret) > MaxSecretLen {
		return // Verify refuses these before hashing too
	}
	salt := make([]byte, argonSaltLen)
	key := argon2.IDKey(secret, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	_ = subtle.ConstantTimeCompare(key, salt)
}

// DummyHash returns a hash of a random secret made like like (the same
// algorithm and cost parameters), so that verifying against it costs what
// verifying against like costs; with an unusable like it returns a hash
// made by Hash. Nobody knows the secret: nothing ever matches it.
func DummyHash(like string) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("auth: dummy hash: %w", err)
	}
	if p, key, err := parseArgon(like); err == nil {
		salt := make([]byte, len(p.salt))
		if _, err := rand.Read(salt); err != nil {
			return "", fmt.Errorf("auth: dummy hash: %w", err)
		}
		p.salt = salt
		return p.encode(argon2.IDKey(secret, salt, p.time, p.memory, p.threads, uint32(len(key)))), nil
	}
	if cost, err := bcrypt.Cost([]byte(like)); err == nil && cost <= maxBcryptCost {
		h, err := bcrypt.GenerateFromPassword(secret[:16], cost)
		if err != nil {
			return "", fmt.Errorf("auth: dummy hash: %w", err)
		}
		return string(h), nil
	}
	return Hash(secret)
}

// argonParams are the cost parameters and salt of an argon2id hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
}

var b64 = base64.RawStdEncoding

func (p argonParams) encode(key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(p.salt), b64.EncodeToString(key))
}

// parseArgon reads an argon2id PHC string, refusing versions other than
// 19 and parameters beyond the bounds.
func parseArgon(hash string) (argonParams, []byte, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return argonParams{}, nil, errors.New("want $argon2id$v=19$m=..,t=..,p=..$salt$key")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argonParams{}, nil, fmt.Errorf("version %q, want v=%d", parts[2], argon2.Version)
	}
	var p argonParams
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return argonParams{}, nil, fmt.Errorf("parameter %q", kv)
		}
		switch k {
		case "m":
			p.memory, seen = uint32(n), seen|1
		case "t":
			p.time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return argonParams{}, nil, fmt.Errorf("parameter %q", kv)
			}
			p.threads, seen = uint8(n), seen|4
		default:
			return argonParams{}, nil, fmt.Errorf("unknown parameter %q", kv)
		}
	}
	switch {
	case seen != 7:
		return argonParams{}, nil, errors.New("want m, t and p")
	case p.threads < 1 || p.threads > maxArgonP:
		return argonParams{}, nil, fmt.Errorf("p=%d, want 1 to %d", p.threads, maxArgonP)
	case p.time < 1 || p.time > maxArgonTime:
		return argonParams{}, nil, fmt.Errorf("t=%d, want 1 to %d", p.time, maxArgonTime)
	case p.memory < 8*uint32(p.threads) || p.memory > maxArgonMemory:
		return argonParams{}, nil, fmt.Errorf("m=%d KiB, want %d to %d", p.memory, 8*uint32(p.threads), maxArgonMemory)
	}
	salt, err := b64.DecodeString(strings.TrimRight(parts[4], "="))
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return argonParams{}, nil, errors.New("salt is not 8 to 64 bytes of base64")
	}
	key, err := b64.DecodeString(strings.TrimRight(parts[5], "="))
	if err != nil || len(key) < 16 || len(key) > 64 {
		return argonParams{}, nil, errors.New("key is not 16 to 64 bytes of base64")
	}
	p.salt = salt
	return p, key, nil
}
