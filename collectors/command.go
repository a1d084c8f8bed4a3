package collectors

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/procrun"
	"github.com/dashd/dashd/model"
	"golang.org/x/sys/unix"
)

// CommandSpec configures a command check: run a program (argv list, never a
// shell string), expect an exit code and optionally a pattern in its output.
type CommandSpec struct {
	// Command is the argv; command[0] is looked up in PATH. Use
	// [sh, -c, "..."] explicitly when a shell is really wanted.
	Command config.Argv `yaml:"command"`
	// ExitCode is the expected exit status (default 0).
	ExitCode int `yaml:"exit_code"`
	// OutputRegex must match the captured stdout.
	OutputRegex string `yaml:"output_regex"`
}

// maxOutput caps each of stdout and stderr kept from a command run.
const maxOutput = 4 << 10

// waitDelay bounds how long Wait waits for the output pipes once the command
// has exited and what it left has been killed. Only a process that escaped
// cleanup can still hold them (without the subreaper, a daemon whose parent
// exited), and what it writes is not the command's output.
const waitDelay = 500 * time.Millisecond

func newCommandSpec() *CommandSpec { return &CommandSpec{} }

// Validate reports problems with positions.
func (c *CommandSpec) Validate(s config.Scope) {
	c.Command.Validate(s, "command")
	if c.ExitCode < 0 || c.ExitCode > 255 {
		s.Errorf("exit_code", "must be between 0 and 255, got %d", c.ExitCode)
	}
	if c.OutputRegex != "" {
		if _, err := regexp.Compile(c.OutputRegex); err != nil {
			s.Errorf("output_regex", "invalid regular expression: %v", err)
		}
	}
}

type commandCheck struct {
	argv     []string
	exitCode int
	re       *regexp.Regexp
}

var _ Check = (*commandCheck)(nil)

func (c *CommandSpec) build(config.Check) (Check, error) {
	if !c.Command.Runnable() {
		return nil, errors.New("command: must be a non-empty list")
	}
	cc := &commandCheck{argv: append([]string(nil), c.Command.Args...), exitCode: c.ExitCode}
	if c.OutputRegex != "" {
		re, err := regexp.Compile(c.OutputRegex)
		if err != nil {
			return nil, fmt.Errorf("output_regex: %w", err)
		}
		cc.re = re
	}
	return cc, nil
}

// Run runs the command in a process group of its own and waits for it to
// exit or for ctx to end (the timeout, or the check being stopped). When ctx
// ends first, the command is killed with every descendant, those that left
// its group or session included (killTree). Either way, when the run ends
// nothing it started keeps running: what stayed in its process group is
// killed, and with the Runner's subreaper so is what reparented to dashd
// (see reaper). The result is the command's own exit status, with the
// output captured so far. Reason and detail never show URL credentials:
// output often quotes what the command was given (curl echoes its URL).
func (c *commandCheck) Run(ctx context.Context) Outcome {
	out := c.run(ctx)
	out.Reason = config.RedactURLs(out.Reason)
	out.Detail = config.RedactURLs(out.Detail)
	return out
}

func (c *commandCheck) run(ctx context.Context) Outcome {
	if err := ctx.Err(); err != nil {
		return down(errReason(err))
	}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = waitDelay
	stdout, stderr := &procrun.CappedBuffer{Max: maxOutput}, &procrun.CappedBuffer{Max: maxOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	rp := reaperFrom(ctx)
	start := time.Now()
	if err := rp.start(cmd); err != nil {
		out := downf("start: %s", errReason(err))
		out.Latency = time.Since(start)
		return out
	}
	root := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- procrun.WaitExit(root) }()

	stopped := false
	var cleanupErr error
	// waitExit's error is dropped on purpose: it can only say that root is
	// no longer our child (ECHILD), and then cmd.Wait below fails the same
	// way and judge reports it.
	select {
	case <-exited:
	case <-ctx.Done():
		stopped = true
		_, cleanupErr = killTree(procRoot, root)
		<-exited
	}
	latency := time.Since(start)
	// root is a zombie now, not reaped: its pid still names its group.
	if err := unix.Kill(-root, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		cleanupErr = errors.Join(cleanupErr, fmt.Errorf("kill group %d: %w", root, err))
	}
	rp.ended(root)
	err := cmd.Wait()
	rp.forget(root)

	var stopErr error
	if stopped && cmd.ProcessState != nil && !cmd.ProcessState.Exited() {
		stopErr = ctx.Err() // killed by us, not finished in time
	}
	out := c.judge(err, stopErr, string(stdout.Kept()), string(stderr.Kept()))
	out.Latency = latency
	out.Detail = commandDetail(stdout, stderr)
	if cleanupErr != nil {
		out.Detail = strings.TrimSpace(out.Detail + "\ncleanup: " + shorten(cleanupErr.Error(), maxReason))
	}
	if cmd.ProcessState != nil {
		out.Values = map[string]float64{"exit_code": float64(cmd.ProcessState.ExitCode())}
	}
	return out
}

// procRoot is the procfs mount process cleanup reads.
const procRoot = "/proc"

// judge turns the end of a run into an Outcome. stopErr is the context's
// error when the run was killed because ctx ended; a command that exited on
// its own is judged on its exit status even if ctx ended meanwhile.
func (c *commandCheck) judge(err, stopErr error, stdout, stderr string) Outcome {
	if stopErr != nil {
		return down(errReason(stopErr))
	}
	var exitErr *exec.ExitError
	code := 0
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
		if code < 0 { // killed by a signal
			return downf("%s", exitErr.ProcessState.String())
		}
	case errors.Is(err, exec.ErrWaitDelay):
		// Exited 0, but a process that escaped cleanup kept the output
		// pipes open: the result is the command's, with what it wrote.
	default:
		return downf("start: %s", errReason(err))
	}
	if code != c.exitCode {
		reason := fmt.Sprintf("exit code %d (want %d)", code, c.exitCode)
		if line := firstLine(stderr); line != "" {
			reason += ": " + line
		} else if line := firstLine(stdout); line != "" {
			reason += ": " + line
		}
		return down(reason)
	}
	if c.re != nil && !c.re.MatchString(stdout) {
		return downf("output does not match %s", shorten(c.re.String(), 60))
	}
	return Outcome{State: model.StateUp, Reason: fmt.Sprintf("exit code %d", code)}
}

func commandDetail(stdout, stderr *procrun.CappedBuffer) string {
	var b strings.Builder
	if s := stdout.String(); s != "" {
		b.WriteString("stdout:\n")
		b.WriteString(s)
	}
	if s := stderr.String(); s != "" {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("stderr:\n")
		b.WriteString(s)
	}
	return b.String()
}
