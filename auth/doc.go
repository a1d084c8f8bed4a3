// Package auth decides who a request comes from and what they may do:
// password and token hashes, roles and token scopes, server-side sessions
// kept in storage, login throttling, a trusted proxy's headers and
// sign-in with an OpenID Connect provider. It knows nothing of HTTP
// frameworks: the server reads cookies, headers and forms and calls in.
//
// # Who
//
// A request is a Principal: a user with a role (viewer, operator, admin)
// signed in with a password or through OIDC and then carried by a session
// cookie; a user named by a trusted proxy; an API token with a scope
// (read, metrics, write); or, in mode none, everyone. Principal.Can is
// the one place that says which Action each of them may take.
//
// # Secrets
//
// Nothing secret is kept in a form that could be replayed: passwords and
// tokens are argon2id (or bcrypt) hashes in the configuration; session
// cookies are stored by their SHA-256 (a stolen database file signs nobody
// in); the OIDC flow state lives in an HMAC-signed cookie whose key never
// leaves the process. Comparisons of secrets are constant-time, and an
// unknown user costs the same hashing as a wrong password.
//
// # Bounds
//
// Everything an unauthenticated client can make this package remember is
// bounded: throttle entries, the token caches, the hashes running at once
// (each argon2id verification holds 19 MiB for tens of milliseconds), the
// names and groups taken from headers and ID tokens.
package auth
