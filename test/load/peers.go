package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// The peers table of `make load-peers`: for every e2e variant, creates per
// second (one at a time, so the inverse of the mean latency), p50 and p99, the
// CPU time kube-apiserver and the variant's webhook process spent per create
// (from /proc/PID/stat, read around each block of the variant's requests, so
// it is charged to the variant that ran), and the webhook's memory.

// Names of the processes the CPU meter reads.
const (
	procAPIServer = "kube-apiserver"
	procLaminar   = "laminar"
	procNoop      = "no-op"
	procReplay    = "patch replay"
	procKyverno   = "kyverno"
)

// cpuMeter charges processes' CPU time to the variant whose requests ran.
type cpuMeter struct {
	pids map[string]int // process name -> pid; 0 when not running
	// used is CPU time by variant, then by process.
	used map[string]map[string]time.Duration
	// read is parentdeath.ReadCPU; tests give their own.
	read func(pid int) (time.Duration, error)
}

func newCPUMeter(pids map[string]int) *cpuMeter {
	return &cpuMeter{pids: pids, used: map[string]map[string]time.Duration{}, read: parentdeath.ReadCPU}
}

// snapshot reads every process's CPU time; a process that cannot be read is
// left out (and so charged nothing).
func (m *cpuMeter) snapshot() map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, pid := range m.pids {
		if pid <= 0 {
			continue
		}
		if t, err := m.read(pid); err == nil {
			out[name] = t
		}
	}
	return out
}

// charge adds what each process used since before to variant.
func (m *cpuMeter) charge(variant string, before map[string]time.Duration) {
	after := m.snapshot()
	u := m.used[variant]
	if u == nil {
		u = map[string]time.Duration{}
		m.used[variant] = u
	}
	for name, t0 := range before {
		if t1, ok := after[name]; ok && t1 >= t0 {
			u[name] += t1 - t0
		}
	}
}

func (m *cpuMeter) reset() { m.used = map[string]map[string]time.Duration{} }

// PeerRow is one variant's line of the peers table.
type PeerRow struct {
	Name     string
	Webhook  string // process that answers its webhook calls; "" for none and the VAP
	Requests int
	// Busy is the sum of the creates' latencies: one at a time, so the time spent.
	Busy     time.Duration
	P50, P99 time.Duration
	// APIServerCPU and WebhookCPU are the CPU time spent during the variant's requests.
	APIServerCPU, WebhookCPU time.Duration
	// Memory is the webhook process's, read after the run.
	Memory *parentdeath.Memory
}

// CreatesPerSecond is the sequential rate.
func (r PeerRow) CreatesPerSecond() float64 {
	if r.Busy <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Busy.Seconds()
}

func perCreate(d time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return d / time.Duration(n)
}

// peerRows builds the table from the variants' latencies, the meter and the
// processes' memory.
func peerRows(variants []*e2eVariant, m *cpuMeter, mem map[string]parentdeath.Memory) []PeerRow {
	var rows []PeerRow
	for _, v := range variants {
		r := PeerRow{Name: v.name, Webhook: v.webhook, Requests: len(v.lat)}
		sorted := sortedCopy(v.lat)
		for _, l := range sorted {
			r.Busy += l
		}
		r.P50, r.P99 = quantile(sorted, 0.5), quantile(sorted, 0.99)
		r.APIServerCPU = m.used[v.name][procAPIServer]
		if v.webhook != "" {
			r.WebhookCPU = m.used[v.name][v.webhook]
			if mm, ok := mem[v.webhook]; ok {
				r.Memory = &mm
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// PrintPeers writes the peers table, with each row's ratios to its baseline
// row (none for the same object set) where it has one.
func PrintPeers(out io.Writer, rows []PeerRow, baseline map[string]string) error {
	byName := map[string]PeerRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "admission\tcreates\tcreates/s\tp50\tp99\t+p50\tkube-apiserver CPU/create\twebhook CPU/create\ttotal CPU/create\twebhook RSS peak\tRSS now\t")
	for _, r := range rows {
		over := ""
		if b, ok := byName[baseline[r.Name]]; ok {
			over = signedMS(r.P50 - b.P50)
		}
		hook, peak, now := "-", "-", "-"
		if r.Webhook != "" {
			hook = us(perCreate(r.WebhookCPU, r.Requests))
		}
		if r.Memory != nil {
			peak, now = fmt.Sprintf("%.1f MiB", mib(r.Memory.Peak)), fmt.Sprintf("%.1f MiB", mib(r.Memory.RSS))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Requests, r.CreatesPerSecond(), ms(r.P50), ms(r.P99), over,
			us(perCreate(r.APIServerCPU, r.Requests)), hook, us(perCreate(r.APIServerCPU+r.WebhookCPU, r.Requests)), peak, now)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(out, "CPU from /proc/PID/stat (10 ms ticks) read around every block of a variant's creates; background work of any process (informers, leases) falls on whichever variant ran. The VAP's CEL runs inside kube-apiserver.")
	return err
}

// readMemories reads each named process's VmHWM and VmRSS.
func readMemories(pids map[string]int) map[string]parentdeath.Memory {
	out := map[string]parentdeath.Memory{}
	for name, pid := range pids {
		if pid <= 0 || name == procAPIServer {
			continue
		}
		if m, err := parentdeath.ReadMemory(pid); err == nil {
			out[name] = m
		}
	}
	return out
}

// childNamed is the pid of this process's child whose executable name is the
// base name of path (as /proc/PID/comm holds it: at most 15 bytes); 0 if none
// or several.
func childNamed(path string) int {
	name := filepath.Base(path)
	if len(name) > 15 {
		name = name[:15]
	}
	kids, err := parentdeath.Children(os.Getpid())
	if err != nil {
		return 0
	}
	pid := 0
	for _, k := range kids {
		if k.Name == name && k.Running() {
			if pid != 0 {
				return 0
			}
			pid = k.PID
		}
	}
	return pid
}

func sortedCopy(lat []time.Duration) []time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s
}

// peersSummary names the processes measured, for the report.
func peersSummary(pids map[string]int) string {
	var parts []string
	for _, n := range []string{procAPIServer, procLaminar, procNoop, procReplay, procKyverno} {
		if pids[n] > 0 {
			parts = append(parts, fmt.Sprintf("%s pid %d", n, pids[n]))
		}
	}
	return strings.Join(parts, ", ")
}

// kyvernoReviewMetric is Kyverno's own time per admission review, the
// counterpart of controller_runtime_webhook_latency_seconds.
const kyvernoReviewMetric = "kyverno_admission_review_duration_seconds"

// sumCount adds up a Prometheus histogram's _sum and _count over all its label
// sets in a /metrics body.
func sumCount(body, metric string) (sum, count float64) {
	for _, line := range strings.Split(body, "\n") {
		var dst *float64
		switch {
		case strings.HasPrefix(line, metric+"_sum{"), strings.HasPrefix(line, metric+"_sum "):
			dst = &sum
		case strings.HasPrefix(line, metric+"_count{"), strings.HasPrefix(line, metric+"_count "):
			dst = &count
		default:
			continue
		}
		f := strings.Fields(line)
		var v float64
		if _, err := fmt.Sscan(f[len(f)-1], &v); err == nil {
			*dst += v
		}
	}
	return sum, count
}

// insideKyverno is the mean time per review between two scrapes, for the report.
func insideKyverno(before, after string) string {
	s0, n0 := sumCount(before, kyvernoReviewMetric)
	s1, n1 := sumCount(after, kyvernoReviewMetric)
	if n1-n0 <= 0 {
		return "time inside kyverno per review: - (no " + kyvernoReviewMetric + " in its /metrics)"
	}
	return fmt.Sprintf("time inside kyverno per review (%s, mutate and validate): %.0fµs over %.0f reviews", kyvernoReviewMetric, (s1-s0)/(n1-n0)*1e6, n1-n0)
}
