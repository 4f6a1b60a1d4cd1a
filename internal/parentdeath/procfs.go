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

// Memory is what /proc/PID/status says of a process's resident set, in bytes.
type Memory struct {
	RSS, Peak int64 // VmRSS, VmHWM
	// Anon and File split RSS: private memory (heap, stacks, the runtime) and
	// the pages of the binary mapped from the page cache.
	Anon, File int64 // RssAnon, RssFile
}

// ReadMemory reads VmRSS, VmHWM, RssAnon and RssFile from /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, err
	}
	return ParseStatus(data)
}

// ParseStatus reads a /proc/PID/status; VmHWM must be there.
func ParseStatus(data []byte) (Memory, error) {
	var m Memory
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		fields := strings.Fields(val)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
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
		case "RssAnon":
			m.Anon = kb << 10
		case "RssFile":
			m.File = kb << 10
		}
	}
	if m.Peak == 0 {
		return Memory{}, errors.New("/proc status: no VmHWM")
	}
	return m, s.Err()
}

// clockTick is USER_HZ, the unit of /proc/PID/stat times; 100 on Linux.
const clockTick = 10 * time.Millisecond

// ReadCPU is a process's user+system CPU time, all threads, from /proc/PID/stat.
func ReadCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(data)
}

// ParseStatCPU is utime+stime of a /proc/PID/stat.
func ParseStatCPU(data []byte) (time.Duration, error) {
	// The command name (field 2) may hold spaces and parentheses; the fields
	// after its last ')' are fixed.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat times")
	}
	return time.Duration(ut+st) * clockTick, nil
}
