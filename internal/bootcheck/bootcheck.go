// Package bootcheck proves an image boots: it starts it in QEMU (KVM when the
// host has it, TCG otherwise), reads the serial console and passes when the
// expected text appears.
package bootcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"fbs/internal/hosttool"
	"fbs/internal/runner"
)

// DefaultExpect is printed by Fedora's systemd ("Welcome to Fedora …!") and
// by the demo distro's /etc/issue alike. GRUB's own "Welcome to GRUB!"
// banner does not count.
const DefaultExpect = "Welcome to"

const grubBanner = "Welcome to GRUB!"

func quoted(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Options is one boot test.
type Options struct {
	ISO      string
	UEFI     bool
	Expect   []string // console texts; any one passes
	Timeout  time.Duration
	MemoryMB int
	// Console receives the serial console as it arrives (a terminal), if set.
	Console io.Writer
}

// Result is how a boot went.
type Result struct {
	Firmware string        `json:"firmware"`
	Accel    string        `json:"accel"`
	Expect   string        `json:"expect"`
	Line     string        `json:"line"` // the console line that held Expect
	Seconds  float64       `json:"seconds"`
	Took     time.Duration `json:"-"`
}

// OVMF is the UEFI firmware QEMU boots with (Debian's ovmf package).
var OVMF = "/usr/share/ovmf/OVMF.fd"

// Args is the QEMU command line for o.
func Args(o Options, accel string) []string {
	mem := o.MemoryMB
	if mem == 0 {
		mem = 1536
	}
	args := []string{hosttool.Path("qemu-system-x86_64"), "-machine", "pc", "-accel", accel,
		"-m", strconv.Itoa(mem), "-smp", "2", "-display", "none", "-monitor", "none",
		"-serial", "stdio", "-net", "none", "-no-reboot", "-boot", "d", "-cdrom", o.ISO}
	if o.UEFI {
		args = append(args, "-bios", OVMF)
	}
	return args
}

// Accel is kvm when /dev/kvm can be opened, else tcg.
func Accel() string {
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
		f.Close()
		return "kvm"
	}
	return "tcg"
}

var (
	errPassed = errors.New("expected text seen")
	errPanic  = errors.New("kernel panic")
	ansi      = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]`)
)

// Failure is a boot that did not reach the expected text.
type Failure struct {
	Reason string
	Tail   []string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("boot test failed: %s; last console lines:\n    %s", f.Reason, strings.Join(f.Tail, "\n    "))
}

// Run boots o.ISO and waits for one of o.Expect on the serial console.
func Run(ctx context.Context, r *runner.Runner, o Options) (*Result, error) {
	if len(o.Expect) == 0 {
		o.Expect = []string{DefaultExpect}
	}
	want := strings.Join(quoted(o.Expect), " or ")
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if _, err := os.Stat(o.ISO); err != nil {
		return nil, fmt.Errorf("boot test: %w", err)
	}
	if o.UEFI {
		if _, err := os.Stat(OVMF); err != nil {
			return nil, fmt.Errorf("boot test: UEFI firmware %s missing (apt-get install ovmf)", OVMF)
		}
	}
	res := &Result{Firmware: "bios", Accel: Accel()}
	if o.UEFI {
		res.Firmware = "uefi"
	}
	bootCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(o.Timeout, func() { cancel(fmt.Errorf("timed out after %s", o.Timeout)) })
	defer timer.Stop()

	var mu sync.Mutex
	var tail []string
	onLine := func(raw string) bool {
		line := strings.TrimRight(ansi.ReplaceAllString(raw, ""), " \t")
		if o.Console != nil {
			fmt.Fprintln(o.Console, line)
		}
		// The log gets the console without its terminal codes (GRUB's
		// menu is mostly cursor moves).
		if strings.TrimSpace(line) != "" {
			r.Log.Printf("  console: %s", line)
		}
		mu.Lock()
		defer mu.Unlock()
		tail = append(tail, line)
		if len(tail) > 20 {
			tail = tail[1:]
		}
		if res.Line == "" {
			for _, e := range o.Expect {
				if strings.Contains(strings.ReplaceAll(line, grubBanner, ""), e) {
					res.Line, res.Expect = strings.TrimSpace(line), e
					cancel(errPassed)
					return true
				}
			}
		}
		if strings.Contains(line, "Kernel panic - not syncing") {
			cancel(errPanic)
		}
		return true
	}
	start := time.Now()
	err := r.Run(bootCtx, runner.Cmd{Args: Args(o, res.Accel), OnLine: onLine})
	res.Took = time.Since(start)
	res.Seconds = res.Took.Round(100 * time.Millisecond).Seconds()
	mu.Lock()
	defer mu.Unlock()
	cause := context.Cause(bootCtx)
	switch {
	case errors.Is(cause, errPassed):
		r.Log.Printf("boot test (%s, %s) passed in %s: %q", res.Firmware, res.Accel, res.Took.Round(100*time.Millisecond), res.Line)
		return res, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case cause != nil:
		return nil, &Failure{Reason: fmt.Sprintf("%s boot: %v before %s appeared", res.Firmware, cause, want), Tail: tail}
	case err != nil:
		return nil, &Failure{Reason: fmt.Sprintf("%s boot: %v", res.Firmware, err), Tail: tail}
	}
	return nil, &Failure{Reason: fmt.Sprintf("%s boot: QEMU exited before %s appeared", res.Firmware, want), Tail: tail}
}
