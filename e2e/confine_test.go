//go:build e2e

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostile is a request whose kickstart ends with the given %post section
// (header line included, %end left to the request).
func hostile(t *testing.T, section string) string {
	return request(t, "file://"+demoDir, "true\n%end\n"+section, "")
}

func randomText() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestHostileNoChroot: a %post --nochroot that writes a canary outside
// the work dir, reads what only root may read, and kills the server that
// runs it: the canary is unchanged, nothing secret is read, the build goes
// on as the script's exit status says, and the server builds the next one.
func TestHostileNoChroot(t *testing.T) {
	canaryDir, err := os.MkdirTemp("/var/cache", "fbs-canary-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(canaryDir)
	canary := filepath.Join(canaryDir, "canary")
	write(t, canary, "intact")
	secret := randomText()
	secretFile := filepath.Join("/root", ".fbs-test-secret-"+secret[:8])
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(secretFile)

	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data)
	script := fmt.Sprintf(`%%post --nochroot
echo changed > %[1]s && echo "canary: WRITTEN"
cat %[2]s /etc/shadow
cat %[2]s >> $INSTALL_ROOT/etc/issue
kill -9 %[3]d && echo "server: KILLED"
mount -t tmpfs none %[4]s && echo "mount: MOUNTED"
echo "hostile script done"
exit 0`, canary, secretFile, s.cmd.Process.Pid, canaryDir)
	res := fbs(t, "submit", hostile(t, script), "--server", s.url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("the hostile build (exit 0 script) failed: exit %d", res.code)
	}
	mustContain(t, "hostile build", res.out, "hostile script done", "succeeded")
	for _, bad := range []string{"canary: WRITTEN", "server: KILLED", "mount: MOUNTED", secret, "root:"} {
		if strings.Contains(res.out, bad) {
			t.Errorf("the script got through: %q in\n%s", bad, res.out)
		}
	}
	if b, _ := os.ReadFile(canary); string(b) != "intact" {
		t.Errorf("canary %q", b)
	}
	if err := s.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the server died: %v", err)
	}
	// The same script with --erroronfail and a failing end fails the build.
	failing := strings.Replace(strings.Replace(script, "--nochroot", "--nochroot --erroronfail", 1), "exit 0", "exit 3", 1)
	if res := fbs(t, "submit", hostile(t, failing), "--server", s.url, "--wait", "--raw"); res.code != 1 {
		t.Errorf("a failing --erroronfail script: exit %d", res.code)
	}
	if res := fbs(t, "submit", request(t, "file://"+demoDir, "true", ""), "--server", s.url, "--wait", "--raw"); res.code != 0 {
		t.Errorf("the server's next build: exit %d", res.code)
	}
}

// leftover counts the host's processes whose command line has text.
func leftover(text string) int {
	out, _ := exec.Command("pgrep", "-c", "-f", text).Output()
	var n int
	fmt.Sscan(string(out), &n)
	return n
}

// TestLimits: a %post that never ends is stopped by the build's time
// limit, one that forks 5,000 processes by the process limit, one that
// fills the disk by the disk limit; each fails the build naming its
// limit, and leaves nothing running or mounted.
func TestLimits(t *testing.T) {
	tests := []struct {
		name, post string
		flags      []string
		want       string
		marker     string
	}{
		{"timeout", "sleep infinity & sleep 1000001", []string{"--timeout", "8s"}, "hit its time limit (8s; --timeout)", "sleep 1000001"},
		{"processes", "for i in $(seq 5000); do sleep 1000002 & done 2>/dev/null; echo spawned", []string{"--max-procs", "300"},
			"hit its processes limit (300 processes; --max-procs)", "sleep 1000002"},
		{"disk", "dd if=/dev/zero of=/fill bs=1M count=600", []string{"--disk-limit", "200MiB", "--root-cache", "0"},
			"hit its disk limit (200 MiB in the work dir; --disk-limit)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			var before syscall.Statfs_t
			syscall.Statfs(work, &before)
			start := time.Now()
			res := fbs(t, append([]string{"build", hostile(t, "%post --erroronfail\n"+tc.post), "--cache", cache, "--work", work}, tc.flags...)...)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1", res.code)
			}
			mustContain(t, "output", res.out, tc.want)
			t.Logf("stopped after %s", time.Since(start).Round(100*time.Millisecond))
			if tc.marker != "" && leftover(tc.marker) > 0 {
				t.Errorf("%q still runs", tc.marker)
			}
			mounts, _ := os.ReadFile("/proc/self/mountinfo")
			if strings.Contains(string(mounts), work) {
				t.Errorf("a mount is left under %s", work)
			}
			var after syscall.Statfs_t
			syscall.Statfs(work, &after)
			if lost := (int64(before.Bavail) - int64(after.Bavail)) * before.Bsize; lost > 100<<20 {
				t.Errorf("the host lost %d MiB", lost>>20)
			}
		})
	}
}

// kernelAttacks is a %post body that tries what would make a build root
// on the host or let it read the host's kernel, and prints a marker for
// each attempt that succeeds (none may), then the environment it got.
const kernelAttacks = `
echo '|/bin/sh -c id' > /proc/sys/kernel/core_pattern && echo "$M core_pattern: WRITTEN"
echo h > /proc/sysrq-trigger && echo "$M sysrq: WRITTEN"
echo $(cat /sys/kernel/mm/ksm/run) > /sys/kernel/mm/ksm/run && echo "$M sysfs: WRITTEN"
test $(head -c 64 /proc/kcore | wc -c) -gt 0 && echo "$M kcore: READ"
test $(head -c 64 /proc/timer_list | wc -c) -gt 0 && echo "$M timer_list: READ"
test -n "$(ls /sys/firmware)" && echo "$M firmware: SEEN"
mknod /tmp/fbs-sda b 8 0 && echo "$M mknod: MADE"
mount -t tmpfs none /mnt && echo "$M mount: MOUNTED"
unshare -U true && echo "$M userns: MADE"
ls /dev/mem /dev/kmsg /dev/sda /dev/vda /dev/loop-control 2>/dev/null | grep . && echo "$M devices: SEEN"
ls /run/dbus/system_bus_socket /run/systemd/private 2>/dev/null | grep . && echo "$M host sockets: SEEN"
env | sed "s/^/$M env: /"
echo "$M attacks done"
`

// TestHostileKernel: a %post, chrooted and --nochroot, that writes the
// host's core_pattern (the kernel would run its pipe as the host's root),
// triggers sysrq, writes sysfs, reads kcore and the timer list, makes a
// device node, mounts, makes a user namespace and looks for host devices
// and service sockets fails at each, leaves the host as it was, and sees
// nothing of the server's environment.
func TestHostileKernel(t *testing.T) {
	const coreFile = "/proc/sys/kernel/core_pattern"
	core, err := os.ReadFile(coreFile)
	if err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(coreFile, core, 0) // should the test fail
	secret := randomText()
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	section := "%post --nochroot\nM=nochroot\n" + kernelAttacks + "%end\n%post\nM=chrooted\n" + kernelAttacks
	res := fbs(t, "submit", hostile(t, section), "--server", s.url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("the hostile build failed: exit %d\n%s", res.code, res.out)
	}
	mustContain(t, "hostile build", res.out, "nochroot attacks done", "chrooted attacks done", "nochroot env: INSTALL_ROOT=", "succeeded")
	for _, bad := range []string{": WRITTEN", ": READ", ": SEEN", ": MADE", ": MOUNTED", secret, "AWS_SECRET_ACCESS_KEY"} {
		if strings.Contains(res.out, bad) {
			t.Errorf("the script got through: %q in\n%s", bad, res.out)
		}
	}
	if now, _ := os.ReadFile(coreFile); string(now) != string(core) {
		t.Errorf("the host's core_pattern is now %q", now)
	}
}
