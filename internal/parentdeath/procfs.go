package parentdeath

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Process is one process as /proc shows it. Its start time tells it apart from
// a later process that gets the same pid.
type Process struct {
	PID  int
	Name string // the executable's name, at most 15 bytes (/proc/PID/comm)

	ppid  int
	state byte
	start uint64
}

// Children lists the processes whose parent is pid, as they are now; tests use
// it to find what a process started.
func Children(pid int) ([]Process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		p, err := readProcess(n)
		if err != nil {
			continue // exited meanwhile
		}
		if p.ppid == pid {
			out = append(out, p)
		}
	}
	return out, nil
}

// Running reports whether p still runs: its pid exists, belongs to the same
// process (same start time), and is not a zombie waiting to be reaped.
func (p Process) Running() bool {
	now, err := readProcess(p.PID)
	if err != nil {
		return false
	}
	return now.start == p.start && now.state != 'Z' && now.state != 'X'
}

func (p Process) String() string { return fmt.Sprintf("%s (pid %d)", p.Name, p.PID) }

// readProcess parses /proc/PID/stat: "pid (comm) state ppid ... starttime ...",
// where comm may hold spaces and parentheses, so fields are counted after the
// last ')'.
func readProcess(pid int) (Process, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Process{}, err
	}
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return Process{}, errors.New("unreadable /proc stat")
	}
	// Fields after comm, numbered from state (field 3 in proc(5)).
	fields := bytes.Fields(data[end+1:])
	const stateField, ppidField, startField = 0, 1, 19
	if len(fields) <= startField || len(fields[stateField]) != 1 {
		return Process{}, errors.New("unreadable /proc stat")
	}
	ppid, err := strconv.Atoi(string(fields[ppidField]))
	if err != nil {
		return Process{}, err
	}
	start, err := strconv.ParseUint(string(fields[startField]), 10, 64)
	if err != nil {
		return Process{}, err
	}
	return Process{PID: pid, Name: string(data[open+1 : end]), ppid: ppid, state: fields[stateField][0], start: start}, nil
}

// WaitExited polls until none of ps runs, or ctx ends; then the error names
// those still running.
func WaitExited(ctx context.Context, ps ...Process) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var running []string
		for _, p := range ps {
			if p.Running() {
				running = append(running, p.String())
			}
		}
		if len(running) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still running: %s: %w", strings.Join(running, ", "), ctx.Err())
		case <-tick.C:
		}
	}
}

// Memory is a process's resident set: now and its peak (VmHWM), in bytes.
type Memory struct{ RSS, Peak int64 }

// ReadMemory reads VmRSS and VmHWM from /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, err
	}
	defer func() { _ = f.Close() }()
	var m Memory
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.RSS = kb << 10
		case "VmHWM":
			m.Peak = kb << 10
		}
	}
	if m.Peak == 0 {
		return m, errors.New("no VmHWM in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return m, s.Err()
}
