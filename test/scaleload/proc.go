package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Memory is what /proc/PID/status says of a process's resident set.
type Memory struct {
	RSS, Peak uint64 // VmRSS, VmHWM, in bytes
	// Anon and File split RSS: private memory (heap, stacks, the runtime) and
	// the pages of the binary mapped from the page cache.
	Anon, File uint64 // RssAnon, RssFile
}

func readMemory(pid int) (Memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return parseStatus(data)
}

// parseStatus reads VmRSS and VmHWM of a /proc/PID/status.
func parseStatus(data []byte) (Memory, error) {
	var m Memory
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		f := strings.Fields(val)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
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
	if m.RSS == 0 || m.Peak == 0 {
		return Memory{}, errors.New("/proc status: no VmRSS or VmHWM")
	}
	return m, s.Err()
}

// clockTick is USER_HZ, the unit of /proc/PID/stat times; 100 on Linux.
const clockTick = 10 * time.Millisecond

func readCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// parseStatCPU is utime+stime of a /proc/PID/stat, all threads.
func parseStatCPU(data []byte) (time.Duration, error) {
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

// metricValues reads the samples of a Prometheus text exposition whose name
// is one of names, summed over their labels.
func metricValues(text string, names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		wanted := false
		for _, n := range names {
			wanted = wanted || n == name
		}
		if !wanted {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[name] += v
		}
	}
	return out
}
