package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where the cgroup filesystems are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// LimitError is a build that hit one of its limits.
type LimitError struct {
	Limit string // "memory", "processes", "disk", "time"
	Value string
	Flag  string // the option that sets it
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the build hit its %s limit (%s; %s)", e.Limit, e.Value, e.Flag)
}

// Cgroup is a build's control group: its commands' memory and process
// limits. Both cgroup v2 (one tree) and v1 (a tree per controller) are
// served, under an "fbs" group of their own.
type Cgroup struct {
	Dirs   []string // one for v2; memory and/or pids for v1
	v2     bool
	memory int64
	procs  int
	seen   map[string]int64 // limit events counted so far
}

// NewCgroup makes the cgroup name with the limits (0: none), tagged with
// this process (see SweepCgroups). Without a writable cgroup filesystem it
// fails, saying why.
func NewCgroup(name string, memory int64, procs int) (*Cgroup, error) {
	c := &Cgroup{memory: memory, procs: procs, seen: map[string]int64{}}
	if start, err := startTime(os.Getpid()); err == nil {
		name += fmt.Sprintf("@%d.%s", os.Getpid(), start)
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		c.v2 = true
		return c, c.makeV2(name)
	}
	return c, c.makeV1(name)
}

func write(dir, file, value string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup %s: %w", filepath.Join(dir, file), err)
	}
	return nil
}

func (c *Cgroup) makeV2(name string) error {
	parent := filepath.Join(cgroupRoot, "fbs")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	for _, dir := range []string{cgroupRoot, parent} {
		if err := write(dir, "cgroup.subtree_control", "+memory +pids"); err != nil {
			return err
		}
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	c.Dirs = []string{dir}
	if c.memory > 0 {
		if err := write(dir, "memory.max", strconv.FormatInt(c.memory, 10)); err != nil {
			return err
		}
		write(dir, "memory.swap.max", "0") // absent without swap accounting
	}
	if c.procs > 0 {
		return write(dir, "pids.max", strconv.Itoa(c.procs))
	}
	return nil
}

func (c *Cgroup) makeV1(name string) error {
	for _, ctl := range []struct {
		name  string
		limit int64
		file  string
	}{{"memory", c.memory, "memory.limit_in_bytes"}, {"pids", int64(c.procs), "pids.max"}} {
		if ctl.limit <= 0 && ctl.name == "memory" {
			continue // the pids group is made anyway: it holds all the build's processes
		}
		dir := filepath.Join(cgroupRoot, ctl.name, "fbs", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
		c.Dirs = append(c.Dirs, dir)
		if ctl.limit <= 0 {
			continue
		}
		if err := write(dir, ctl.file, strconv.FormatInt(ctl.limit, 10)); err != nil {
			return err
		}
		if ctl.name == "memory" {
			write(dir, "memory.memsw.limit_in_bytes", strconv.FormatInt(ctl.limit, 10)) // absent without swap accounting
		}
	}
	return nil
}

// counter reads "key value" lines of a cgroup file.
func counter(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == key {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// Hit returns a *LimitError when a limit was hit since the last call:
// a process killed for memory, or a fork refused.
func (c *Cgroup) Hit() error {
	check := func(file, key, limit, value, flag string) error {
		for _, dir := range c.Dirs {
			path := filepath.Join(dir, file)
			if n := counter(path, key); n > c.seen[path] {
				c.seen[path] = n
				return &LimitError{Limit: limit, Value: value, Flag: flag}
			}
		}
		return nil
	}
	if c.memory > 0 {
		file := "memory.events"
		if !c.v2 {
			file = "memory.oom_control"
		}
		if err := check(file, "oom_kill", "memory", humanBytes(c.memory), "--memory"); err != nil {
			return err
		}
	}
	if c.procs > 0 {
		return check("pids.events", "max", "processes", strconv.Itoa(c.procs)+" processes", "--max-procs")
	}
	return nil
}

// Close kills what is left in the cgroup and removes it.
func (c *Cgroup) Close() error {
	var errs []error
	for _, dir := range c.Dirs {
		for try := 0; try < 50; try++ {
			data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if err != nil || len(strings.TrimSpace(string(data))) == 0 {
				break
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// startTime is when process pid started (in clock ticks since boot): with
// the PID, it names a process for good, where a PID alone may be reused.
func startTime(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name, in parentheses, may hold spaces; starttime is the
	// 20th field after it.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return f[19], nil
}

// SweepCgroups removes the build cgroups that an fbs process which is
// gone (killed before it could close them) left behind, and returns them.
// A cgroup is named after the process that made it, by PID and start
// time, so that those of a live fbs sharing this host (between two of a
// build's commands its cgroup is empty too) are kept; so are cgroups that
// still hold a process, and those of an older fbs, which carry no name.
func SweepCgroups(log *slog.Logger) []string {
	var removed []string
	for _, parent := range []string{filepath.Join(cgroupRoot, "fbs"), filepath.Join(cgroupRoot, "memory", "fbs"), filepath.Join(cgroupRoot, "pids", "fbs")} {
		entries, err := os.ReadDir(parent)
		if err != nil {
			continue // no fbs cgroups there
		}
		for _, e := range entries {
			at := strings.LastIndexByte(e.Name(), '@')
			if !e.IsDir() || at < 0 {
				continue
			}
			pid, start, _ := strings.Cut(e.Name()[at+1:], ".")
			if n, err := strconv.Atoi(pid); err != nil {
				continue
			} else if st, err := startTime(n); err == nil && st == start {
				continue // its maker runs
			}
			dir := filepath.Join(parent, e.Name())
			if procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err != nil || len(bytes.TrimSpace(procs)) > 0 {
				continue
			}
			if err := os.Remove(dir); err != nil {
				log.Warn("cgroup left by a process that is gone: not removed", "cgroup", dir, "err", err)
				continue
			}
			log.Info("removed a cgroup left by a process that is gone", "cgroup", dir)
			removed = append(removed, dir)
		}
	}
	return removed
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
