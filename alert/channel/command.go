package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/procrun"
	"github.com/dashd/dashd/model"
	"golang.org/x/sys/unix"
)

// CommandSpec configures a command channel: a program run per message,
// with the message as JSON on its standard input.
type CommandSpec struct {
	// Command is the argv, never a shell string; command[0] is looked up
	// in PATH. Use [sh, -c, "..."] when a shell is really wanted.
	Command config.Argv `yaml:"command"`
}

// Exit statuses of a command channel's program, after sysexits.h (as mail
// delivery agents read them): 0 delivered; 75 (EX_TEMPFAIL) and anything
// outside 64-78 retried; 64-78 other than 75 permanent (EX_USAGE,
// EX_DATAERR, EX_NOUSER, EX_CONFIG...: retrying will not help).
const (
	ExitTempFail     = 75
	exitPermanentMin = 64
	exitPermanentMax = 78
)

// maxCommandOutput caps each of stdout and stderr kept from a run.
const maxCommandOutput = 4 << 10

// commandWaitDelay bounds the wait for the output pipes after the program
// exited and its process group was killed (a process that left the group
// may still hold them).
const commandWaitDelay = 500 * time.Millisecond

func newCommandSpec() *CommandSpec { return &CommandSpec{} }

// Validate reports problems with positions.
func (c *CommandSpec) Validate(s config.Scope) { c.Command.Validate(s, "command") }

// describe names the program only: arguments may hold credentials.
func (c *CommandSpec) describe() string {
	if len(c.Command.Args) == 0 {
		return "command"
	}
	return "command " + filepath.Base(c.Command.Args[0])
}

type command struct {
	argv    []string
	program string
	channel string
	// scrub hides the arguments that hold secrets (config.RedactArgv's
	// rules) from the output an error quotes.
	scrub scrubber
}

var _ Sender = (*command)(nil)

func (c *CommandSpec) build(ch config.Channel, _ Options) (Sender, error) {
	if !c.Command.Runnable() {
		return nil, errors.New("command: must be a non-empty list")
	}
	argv := append([]string(nil), c.Command.Args...)
	var secrets []string
	for i, a := range config.RedactArgv(argv) {
		if a != argv[i] {
			secrets = append(secrets, argv[i])
			if _, v, ok := strings.Cut(argv[i], "="); ok {
				secrets = append(secrets, v)
			}
		}
	}
	return &command{argv: argv, program: filepath.Base(argv[0]), channel: ch.Name, scrub: newScrubber(secrets...)}, nil
}

// Send runs the program in a process group of its own with the message
// as JSON (the webhook's document) on stdin, and DASHD_MESSAGE_ID,
// DASHD_CHANNEL and DASHD_TITLE in its environment. When ctx ends first
// the whole group is killed; when the program exits, what it left in its
// group is killed too. The error quotes at most 4 KiB of each of stdout
// and stderr, URL credentials hidden.
func (c *command) Send(ctx context.Context, m model.AlertMessage) error {
	in, err := payloadJSON(m)
	if err != nil {
		return Permanent(err)
	}
	if err := ctx.Err(); err != nil {
		return c.fail(err, "%s: not started: %v", c.program, err)
	}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdin = bytes.NewReader(in)
	stdout, stderr := &procrun.CappedBuffer{Max: maxCommandOutput}, &procrun.CappedBuffer{Max: maxCommandOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = commandWaitDelay
	cmd.Env = append(os.Environ(),
		"DASHD_MESSAGE_ID="+m.ID,
		"DASHD_CHANNEL="+c.channel,
		"DASHD_TITLE="+oneLine(m.Title()),
	)
	if err := cmd.Start(); err != nil {
		return c.fail(err, "%s: start: %v", c.program, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		// An error can only mean pid is gone already: cmd.Wait says how.
		_ = procrun.WaitExit(pid)
		close(exited)
	}()
	killed := false
	select {
	case <-exited:
	case <-ctx.Done():
		killed = true
		_ = unix.Kill(-pid, unix.SIGKILL)
		<-exited
	}
	// The program is a zombie until Wait: its pid still names its group,
	// so this kills what it left behind and nothing else.
	_ = unix.Kill(-pid, unix.SIGKILL)
	werr := cmd.Wait()
	return c.judge(werr, killed, ctx.Err(), stdout, stderr)
}

// commandError is a failed run; its text hides URL credentials.
type commandError struct {
	msg string
	err error
}

func (e *commandError) Error() string { return e.msg }

func (c *command) fail(err error, format string, args ...any) *commandError {
	return &commandError{msg: c.scrub.text(fmt.Sprintf(format, args...)), err: err}
}
func (e *commandError) Unwrap() error { return e.err }

// judge turns the end of a run into Send's result.
func (c *command) judge(werr error, killed bool, ctxErr error, stdout, stderr *procrun.CappedBuffer) error {
	out := output(stdout, stderr)
	var exitErr *exec.ExitError
	switch {
	case killed && ctxErr != nil:
		return c.fail(ctxErr, "%s: killed: %v%s", c.program, ctxErr, out)
	case werr == nil, errors.Is(werr, exec.ErrWaitDelay):
		return nil
	case errors.As(werr, &exitErr):
		code := exitErr.ExitCode()
		if code < 0 {
			return c.fail(werr, "%s: %s%s", c.program, exitErr.ProcessState.String(), out)
		}
		e := c.fail(werr, "%s: exit status %d%s", c.program, code, out)
		if code >= exitPermanentMin && code <= exitPermanentMax && code != ExitTempFail {
			return Permanent(e)
		}
		return e
	}
	return c.fail(werr, "%s: %v%s", c.program, werr, out)
}

// output is the captured output for an error, "" when there is none.
func output(stdout, stderr *procrun.CappedBuffer) string {
	var b strings.Builder
	if s := strings.TrimSpace(stderr.String()); s != "" {
		b.WriteString("; stderr: " + s)
	}
	if s := strings.TrimSpace(stdout.String()); s != "" {
		b.WriteString("; stdout: " + s)
	}
	return b.String()
}
