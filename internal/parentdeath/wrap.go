package parentdeath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// The environment of a Wrap script's re-run of this program: the binary to
// become, and the pid its parent must have.
const (
	envExec   = "LAMINAR_PARENTDEATH_EXEC"
	envParent = "LAMINAR_PARENTDEATH_PARENT"
)

// Wrap writes an executable script dir/<binary's name> that runs binary, with
// the arguments it is given, so that binary is killed when this process dies.
// Start the script instead of binary, from Do, where the command cannot be
// given a SysProcAttr (envtest builds its own).
//
// The script runs this program again (os.Executable) with two environment
// variables; this package's init sees them, sets the parent-death signal on
// itself, checks that its parent is still this process, and execs binary in
// its place: same pid, the signal kept, nothing in between.
func Wrap(dir, binary string) (string, error) {
	if binary == "" {
		return "", errors.New("parentdeath: no binary to wrap")
	}
	target, err := filepath.Abs(binary)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(target); err != nil {
		return "", fmt.Errorf("parentdeath: %w", err)
	} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("parentdeath: %s is not an executable file", target)
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("parentdeath: this program's path: %w", err)
	}
	script := fmt.Sprintf("#!/bin/sh\n# Runs %s, killed when process %d dies (internal/parentdeath).\n%s=%s %s=%d exec %s \"$@\"\n",
		strconv.Quote(filepath.Base(target)), os.Getpid(), envExec, shellQuote(target), envParent, os.Getpid(), shellQuote(self))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(target))
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		return "", err
	}
	return path, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// init turns this run of the program into the wrapped binary when a Wrap
// script started it; otherwise it does nothing.
func init() {
	if target, ok := os.LookupEnv(envExec); ok {
		os.Exit(becomeWrapped(target, os.Getenv(envParent), os.Args[1:]))
	}
}

// becomeWrapped execs target with args and the parent-death signal set. It
// returns only on failure, with the exit status to report.
func becomeWrapped(target, parent string, args []string) int {
	// The signal is a property of the thread that sets it, and execve keeps
	// only the calling thread: both must be this one.
	runtime.LockOSThread()
	_ = os.Unsetenv(envExec)
	_ = os.Unsetenv(envParent)
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(Signal), 0); errno != 0 {
		fmt.Fprintf(os.Stderr, "parentdeath: %s: prctl(PR_SET_PDEATHSIG): %v\n", target, errno)
		return 126
	}
	// A parent that died before the signal was set sends none; then stop here.
	if want, err := strconv.Atoi(parent); err != nil || os.Getppid() != want {
		fmt.Fprintf(os.Stderr, "parentdeath: %s: not started: the process that wrapped it (pid %q) is no longer its parent\n", target, parent)
		return 125
	}
	err := syscall.Exec(target, append([]string{target}, args...), os.Environ()) //nolint:gosec // running the wrapped binary is the job
	fmt.Fprintf(os.Stderr, "parentdeath: exec %s: %v\n", target, err)
	return 127
}
