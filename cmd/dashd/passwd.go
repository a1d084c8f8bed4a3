package main

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/dashd/dashd/auth"
)

// runPasswd is `dashd passwd`: it reads a password (or an API token) and
// prints its argon2id hash, the value of a user's password_hash or a
// token's hash in the configuration.
//
// On a terminal it asks twice, without echo. Otherwise it hashes all of
// standard input exactly as it is, a trailing newline included (that is
// why the examples use `echo -n` or printf '%s'): a secret is taken as the
// bytes given, and a note on stderr says when they end with a newline.
// An empty secret, or one over auth.MaxSecretLen bytes, is refused.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashd passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), `Usage: dashd passwd

Reads a password (or an API token) and prints its argon2id hash for
auth.users[].password_hash (or auth.tokens[].hash) in the configuration.
On a terminal it asks twice without echo; otherwise it hashes standard
input exactly as given, a trailing newline included:

  echo -n 'secret' | dashd passwd
  printf '%s' "$TOKEN" | dashd passwd
`)
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	secret, err := readSecret(stdin, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dashd passwd:", err)
		return 1
	}
	h, err := auth.Hash(secret)
	clear(secret)
	if err != nil {
		fmt.Fprintln(stderr, "dashd passwd:", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}

// readSecret reads the secret from a terminal (twice, no echo, prompts on
// stderr) or from piped input (all of it, as is).
func readSecret(stdin io.Reader, stderr io.Writer) ([]byte, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readFromTerminal(int(f.Fd()), stderr)
	}
	b, err := io.ReadAll(io.LimitReader(stdin, auth.MaxSecretLen+1))
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	if err := checkSecret(b); err != nil {
		return nil, err
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		_, _ = io.WriteString(stderr, "dashd passwd: note: the input ends with a newline, which is part of the hashed secret; use echo -n or printf '%s' if it should not be\n")
	}
	return b, nil
}

func readFromTerminal(fd int, stderr io.Writer) ([]byte, error) {
	fmt.Fprint(stderr, "Password: ")
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if err := checkSecret(first); err != nil {
		return nil, err
	}
	fmt.Fprint(stderr, "Again: ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	defer clear(second)
	if subtle.ConstantTimeCompare(first, second) != 1 {
		clear(first)
		return nil, errors.New("the two passwords differ; nothing printed")
	}
	return first, nil
}

func checkSecret(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty password refused")
	case len(b) > auth.MaxSecretLen:
		return fmt.Errorf("longer than %d bytes: refused", auth.MaxSecretLen)
	}
	return nil
}
