// Package collectors runs dashd's YAML-configured service checks and keeps
// their latest state.
//
// # Check types
//
// Each check type lives in its own file (http.go, tcp.go, dns.go, tls.go,
// process.go, systemd.go, command.go): a config struct with yaml tags and a
// Validate method (problems carry file:line:column through config.Scope), an
// unexported type implementing Check, and a build method that turns the
// validated config into a runnable Check. Types lists them all in one table;
// adding a type means adding its file and one line there.
//
// # State
//
// One run of a check gives an Outcome: up, degraded or down with a short
// reason. The Runner damps outcomes into a displayed state:
//
//   - The first result of a new check sets its state at once (nobody wants to
//     stare at "unknown" for fail_after intervals).
//   - A check gets worse only when its last fail_after results are all at least
//     that bad: with fail_after 2, "degraded, down" makes it degraded and a
//     second "down" makes it down. Degraded therefore counts as a failure
//     towards degraded, but not towards down.
//   - A check gets better only when its last recover_after results are all at
//     least that good: from down, one degraded result (recover_after 1) makes it
//     degraded, an up result makes it up.
//   - A check whose state changed FlapChanges times or more within FlapWindow
//     (default 5 in 10 minutes) is marked flapping in its Status. Flapping is a
//     flag, not a state, and toggling it emits no event.
//
// Every state change is a model.Event of kind model.EventCheck.
//
// # Lifecycle
//
// A Runner owns one goroutine per check. Runner.Run starts them under a
// context; Runner.Apply adds, removes and restarts checks at any time without
// touching the unchanged ones. A run is bounded by the check's timeout, a
// panic in a check is recovered and reported as down, and a bounded number of
// checks run at the same moment.
//
// # Command checks and their processes
//
// A command check's contract is that when its run ends, nothing it started
// keeps running, whether the command succeeded, failed or timed out. A check
// that starts a daemon "for later" is broken: every run would add one.
//
//   - The command runs in a process group of its own. When the run times out
//     (or the check is stopped), the whole tree below the command is stopped
//     with SIGSTOP, walked again through /proc until no new process shows up,
//     then killed with SIGKILL: that reaches children that left the group or
//     the session (setsid), which a process-group kill misses.
//   - When the command exits, what is left in its process group is killed, and
//     the run ends about 500 ms later at most even if a leftover still holds
//     its output pipes; the result is the command's own exit status with the
//     output captured so far, never a timeout.
//   - A process whose parent has exited (a double-forked daemon) has left the
//     tree. With RunnerOptions.Subreaper, dashd is a child subreaper, so such
//     orphans become dashd's children instead of init's; when a run ends they
//     are killed with their descendants and reaped by their exact pid. dashd
//     cannot tell which run an orphan came from, so an orphan is spared while
//     any command run that began before it is still going (a script may
//     start a helper daemon and stop it itself within its run), and killed
//     when the last of those ends. Without the subreaper such orphans survive.
//
// Children that other dashd code starts in dashd's own process group (os/exec
// defaults, such as systemctl for systemd checks) are never touched, and
// nothing ever waits on "any child", which would take exit statuses from
// os/exec.
package collectors
