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
	"github.com/dashd/dashd/model"
	"go.yaml.in/yaml/v3"
)

// CommandSpec configures a command check: run a program (argv list, never a
// shell string), expect an exit code and optionally a pattern in its output.
type CommandSpec struct {
	// Command is the argv; command[0] is looked up in PATH. Use
	// [sh, -c, "..."] explicitly when a shell is really wanted.
	Command Argv `yaml:"command"`
	// ExitCode is the expected exit status (default 0).
	ExitCode int `yaml:"exit_code"`
	// OutputRegex must match the captured stdout.
	OutputRegex string `yaml:"output_regex"`
}

// maxOutput caps each of stdout and stderr kept from a command run.
const maxOutput = 4 << 10

// waitDelay bounds how long Wait waits for output pipes after the command
// exits or is killed (a daemonised grandchild may hold them open).
const waitDelay = 2 * time.Second

func newCommandSpec() *CommandSpec { return &CommandSpec{} }

// Argv is a program and its arguments, written as a YAML list. A plain
// string is kept aside (Shell) so Validate can explain why it is refused,
// instead of the generic "expected a list".
type Argv struct {
	Args  []string
	Shell string
}

// UnmarshalYAML accepts a list of strings; a scalar is remembered as Shell.
func (a *Argv) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.Shell = n.Value
		return nil
	}
	return n.Decode(&a.Args)
}

// Validate reports problems with positions.
func (c *CommandSpec) Validate(s config.Scope) {
	argv := c.Command.Args
	switch {
	case c.Command.Shell != "":
		s.Errorf("command", "must be a list (program, then arguments), never a shell string: write [prog, arg, ...], or [sh, -c, %q] if a shell is really needed", c.Command.Shell)
	case len(argv) == 0:
		s.Required("command", true)
	case strings.TrimSpace(argv[0]) == "":
		s.Index("command", 0).Errorf("", "the program must not be empty")
	case len(argv) == 1 && strings.ContainsAny(argv[0], " |;&$<>"):
		s.Index("command", 0).Errorf("", "%q looks like a shell command line: list the program and its arguments separately, e.g. [curl, -fsS, http://x], or use [sh, -c, \"...\"]", argv[0])
	}
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
	if c.Command.Shell != "" || len(c.Command.Args) == 0 || c.Command.Args[0] == "" {
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

// Run runs the command in its own process group; when ctx ends the whole
// group is killed, so a script's children cannot outlive the timeout.
func (c *commandCheck) Run(ctx context.Context) Outcome {
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative PID: the process group, whose ID is the leader's PID.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	stdout, stderr := &cappedBuffer{max: maxOutput}, &cappedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	start := time.Now()
	err := cmd.Run()
	latency := time.Since(start)

	out := c.judge(err, ctx.Err(), string(stdout.buf), string(stderr.buf))
	out.Latency = latency
	out.Detail = commandDetail(stdout, stderr)
	if cmd.ProcessState != nil {
		out.Values = map[string]float64{"exit_code": float64(cmd.ProcessState.ExitCode())}
	}
	return out
}

func (c *commandCheck) judge(err, ctxErr error, stdout, stderr string) Outcome {
	if ctxErr != nil {
		return down(errReason(ctxErr))
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
		// Exited, but a leftover child kept the output pipes open.
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

func commandDetail(stdout, stderr *cappedBuffer) string {
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

// cappedBuffer keeps the first max bytes written and counts the rest, so a
// chatty command can neither grow dashd's memory nor block on a full pipe.
type cappedBuffer struct {
	max     int
	buf     []byte
	dropped int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - len(b.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf = append(b.buf, p[:room]...)
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	if b.dropped > 0 {
		return string(b.buf) + fmt.Sprintf("\n[%d more bytes not kept]", b.dropped)
	}
	return string(b.buf)
}
