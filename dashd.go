// Package dashd holds what the repository root owns: the shipped example
// configuration, embedded so that `dashd` runs out of the box with no file.
package dashd

import _ "embed"

// DefaultConfig is config.yaml at the repository root, the documented example
// configuration. dashd uses it when no configuration file exists at the default
// path and none was named.
//
//go:embed config.yaml
var DefaultConfig []byte

// Notices is THIRD_PARTY_NOTICES.md, served at /licenses so the licence of the
// embedded Datastar client ships with the binary.
//
//go:embed THIRD_PARTY_NOTICES.md
var Notices []byte
