package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// CPU shares of the scale-out bench: each node process and the PostgreSQL
// server get a fixed CPU quota, so that adding nodes adds CPU the way
// adding machines would, and the database's share stays what it was.
//
// In order of preference:
//   - cgroup v2 with the cpu controller (cpu.max; usage from cpu.stat);
//   - cgroup v1's cpu controller (cpu.cfs_quota_us over cpu.cfs_period_us),
//     with the cpuacct hierarchy for the usage when it is mounted apart;
//   - taskset, one core per process, when the machine has a core for each
//     (not on a 2-core machine with 3 nodes and PostgreSQL).
//
// Processes join a group as they start (a shell writes its own PID to
// cgroup.procs and then execs the node), so every thread and child runs
// under the quota from the first instruction; PostgreSQL, started before,
// is moved with its children (later backends fork from the postmaster
// and inherit its group).

// cpuPeriod is the quota's period: short, so that a throttled node waits
// at most a few milliseconds.
const cpuPeriod = 10 * time.Millisecond

type shares struct {
	kind string // "cgroup v2", "cgroup v1", "taskset"
	// cpu is the directory under which groups are made (the bench's own
	// group); acct, for cgroup v1 with cpuacct mounted apart, the same in
	// the cpuacct hierarchy.
	cpu, acct string
	groups    []*share
	nextCore  int
}

// share is one process's (or PostgreSQL's) CPU share.
type share struct {
	s         *shares
	name      string
	cores     float64
	cpu, acct string // group directories ("" with taskset)
	core      int    // with taskset
}

// newShares finds a writable CPU controller and makes the bench's group.
func newShares(tag string) (*shares, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("CPU shares need Linux cgroups or taskset")
	}
	// cgroup v2: the unified hierarchy at /sys/fs/cgroup with cpu enabled.
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && hasWord(string(b), "cpu") {
		dir := filepath.Join("/sys/fs/cgroup", tag)
		if err := os.Mkdir(dir, 0o755); err == nil {
			// Children get the cpu controller through the parent's
			// subtree_control (the root's usually has it already).
			_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+cpu"), 0o644)
			if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu"), 0o644); err == nil {
				return &shares{kind: "cgroup v2 cpu.max", cpu: dir}, nil
			}
			_ = os.Remove(dir)
		}
	}
	// cgroup v1: the cpu controller's hierarchy.
	for _, root := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"} {
		if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err != nil {
			continue
		}
		dir := filepath.Join(root, tag)
		if err := os.Mkdir(dir, 0o755); err != nil {
			continue
		}
		s := &shares{kind: "cgroup v1 cpu.cfs_quota_us", cpu: dir}
		if _, err := os.Stat(filepath.Join(root, "cpuacct.usage")); err != nil {
			acct := filepath.Join("/sys/fs/cgroup/cpuacct", tag)
			if err := os.Mkdir(acct, 0o755); err == nil {
				s.acct = acct
			}
		}
		return s, nil
	}
	if _, err := os.Stat("/usr/bin/taskset"); err == nil {
		return &shares{kind: "taskset"}, nil
	}
	return nil, errors.New("no writable cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us) and no taskset")
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// group makes a share of cores CPUs (a fraction is a quota; with taskset
// it is a whole core).
func (s *shares) group(name string, cores float64) (*share, error) {
	g := &share{s: s, name: name, cores: cores}
	switch {
	case s.kind == "taskset":
		if s.nextCore >= runtime.NumCPU() {
			return nil, fmt.Errorf("taskset: no core left for %s (%d cores): shares cannot be fixed on this machine", name, runtime.NumCPU())
		}
		g.core = s.nextCore
		s.nextCore++
		g.cores = 1
	default:
		g.cpu = filepath.Join(s.cpu, name)
		if err := os.Mkdir(g.cpu, 0o755); err != nil && !os.IsExist(err) {
			return nil, err
		}
		period := cpuPeriod.Microseconds()
		quota := int64(cores * float64(period))
		var err error
		if strings.HasPrefix(s.kind, "cgroup v2") {
			err = os.WriteFile(filepath.Join(g.cpu, "cpu.max"), []byte(fmt.Sprintf("%d %d", quota, period)), 0o644)
		} else {
			if err = os.WriteFile(filepath.Join(g.cpu, "cpu.cfs_period_us"), []byte(strconv.FormatInt(period, 10)), 0o644); err == nil {
				err = os.WriteFile(filepath.Join(g.cpu, "cpu.cfs_quota_us"), []byte(strconv.FormatInt(quota, 10)), 0o644)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s quota: %w", name, err)
		}
		if s.acct != "" {
			g.acct = filepath.Join(s.acct, name)
			if err := os.Mkdir(g.acct, 0o755); err != nil && !os.IsExist(err) {
				return nil, err
			}
		}
	}
	s.groups = append(s.groups, g)
	return g, nil
}

// wrap returns the command line that runs argv inside the share.
func (g *share) wrap(argv []string) []string {
	if g.s.kind == "taskset" {
		return append([]string{"taskset", "-c", strconv.Itoa(g.core)}, argv...)
	}
	join := "echo $$ > " + shellQuote(filepath.Join(g.cpu, "cgroup.procs"))
	if g.acct != "" {
		join += " && echo $$ > " + shellQuote(filepath.Join(g.acct, "cgroup.procs"))
	}
	return append([]string{"sh", "-c", join + ` && exec "$0" "$@"`}, argv...)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// adopt moves a running process and its children into the share.
func (g *share) adopt(pid int) error {
	pids := append([]int{pid}, childrenOf(pid)...)
	for _, p := range pids {
		if g.s.kind == "taskset" {
			continue // taskset -a -p would do; PostgreSQL needs a group here
		}
		for _, dir := range []string{g.cpu, g.acct} {
			if dir == "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(p)), 0o644); err != nil {
				return fmt.Errorf("move %d into %s: %w", p, dir, err)
			}
		}
	}
	return nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after
		// the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			if pp, _ := strconv.Atoi(f[1]); pp == pid {
				out = append(out, p)
			}
		}
	}
	return out
}

// usage is the CPU time the share's processes have used (cgroups only).
func (g *share) usage() (time.Duration, error) {
	switch {
	case g.s.kind == "taskset":
		return 0, errors.New("no usage with taskset")
	case strings.HasPrefix(g.s.kind, "cgroup v2"):
		f, err := os.Open(filepath.Join(g.cpu, "cpu.stat"))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "usage_usec" {
				n, err := strconv.ParseInt(v, 10, 64)
				return time.Duration(n) * time.Microsecond, err
			}
		}
		return 0, errors.New("cpu.stat without usage_usec")
	default:
		dir := g.cpu
		if g.acct != "" {
			dir = g.acct
		}
		b, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(n), err
	}
}

// close removes the groups; their processes must have exited (anything
// left is moved to the parent group first).
func (s *shares) close() error {
	var errs []error
	for i := len(s.groups) - 1; i >= 0; i-- {
		g := s.groups[i]
		for _, dir := range []string{g.cpu, g.acct} {
			if dir == "" {
				continue
			}
			moveOut(dir)
			if err := os.Remove(dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, dir := range []string{s.cpu, s.acct} {
		if dir != "" {
			if err := os.Remove(dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// moveOut moves what is left in a group to the root of its hierarchy.
func moveOut(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	root := filepath.Dir(filepath.Dir(dir))
	for _, p := range strings.Fields(string(b)) {
		_ = os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(p), 0o644)
	}
}
