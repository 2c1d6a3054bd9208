// Package bootcheck proves an image boots: it starts it in QEMU (KVM where a
// probe shows it works well, TCG otherwise), reads the serial console and
// passes when the expected text appears.
package bootcheck

import (
	"cmp"
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
	ISO string
	// Arch is the image's architecture: "" or x86_64 boots a PC (BIOS or
	// UEFI), aarch64 QEMU's virt machine with UEFI alone (aarch64.go).
	Arch     string
	UEFI     bool
	Expect   []string // console texts; any one passes
	Timeout  time.Duration
	MemoryMB int
	// Accel is auto (also ""), kvm or tcg; see Choose.
	Accel string
	// Silence is how long a boot under KVM may print nothing at all before
	// it is restarted once under TCG (30 s when 0).
	Silence time.Duration
	// Console receives the serial console as it arrives (a terminal), if set.
	Console io.Writer
}

// Result is how a boot went.
type Result struct {
	Firmware string        `json:"firmware"`
	Accel    string        `json:"accel"`
	Why      string        `json:"accel_why,omitempty"` // why that accelerator
	Expect   string        `json:"expect"`
	Line     string        `json:"line"` // the console line that held Expect
	Seconds  float64       `json:"seconds"`
	Took     time.Duration `json:"-"`
}

// OVMF is the UEFI firmware QEMU boots with (Debian's ovmf package).
var OVMF = "/usr/share/ovmf/OVMF.fd"

// Args is the QEMU command line for o.
func Args(o Options, accel string) []string {
	if o.Arch == "aarch64" {
		return aarch64Args(o, accel)
	}
	args := []string{hosttool.Path("qemu-system-x86_64"), "-machine", "pc", "-accel", accel,
		"-m", memory(o), "-smp", smp(accel), "-display", "none", "-monitor", "none",
		"-serial", "stdio", "-net", "none", "-no-reboot", "-boot", "d", "-cdrom", o.ISO}
	if o.UEFI {
		args = append(args, "-bios", OVMF)
	}
	return args
}

func memory(o Options) string {
	return strconv.Itoa(cmp.Or(o.MemoryMB, 1536))
}

// smp is one vCPU under TCG: with two, a guest on a busy 2-core host
// starves one vCPU while the other spins waiting for it (soft lockups in
// udev's workers seen here), and TCG gains little from a second one anyway.
func smp(accel string) string {
	if accel == "tcg" {
		return "1"
	}
	return "2"
}

// checkFirmware says what o's boot lacks: an arch without boot tests, a
// BIOS boot of UEFI-only media, or firmware that is not installed.
func checkFirmware(o Options) error {
	switch o.Arch {
	case "", "x86_64":
		if _, err := os.Stat(OVMF); o.UEFI && err != nil {
			return fmt.Errorf("UEFI firmware %s missing (apt-get install ovmf)", OVMF)
		}
		return nil
	case "aarch64":
		return checkAArch64(o)
	}
	return fmt.Errorf("no boot test for %s media (x86_64, aarch64)", o.Arch)
}

var (
	errPassed = errors.New("expected text seen")
	errPanic  = errors.New("kernel panic")
	errSilent = errors.New("no console output")
	ansi      = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]`)
)

// Failure is a boot that did not reach the expected text.
type Failure struct {
	Reason string
	Tail   []string
	ISO    string // the image booted: it is kept
	Retry  []string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("boot test failed: %s; last console lines:\n    %s\nthe ISO is kept: %s\nto retry only the boot: %s",
		f.Reason, strings.Join(f.Tail, "\n    "), f.ISO, runner.Quote(f.Retry))
}

// retry is the fbs boot-test command that repeats o under accel.
func retry(o Options, accel string) []string {
	args := []string{"fbs", "boot-test", o.ISO}
	if o.Arch != "" && o.Arch != "x86_64" {
		args = append(args, "--arch", o.Arch)
	}
	args = append(args, "--accel", accel)
	if o.UEFI {
		args = append(args, "--uefi")
	}
	for _, e := range o.Expect {
		args = append(args, "--expect", e)
	}
	if o.Timeout != defaultTimeout {
		args = append(args, "--timeout", o.Timeout.String())
	}
	return args
}

const (
	defaultTimeout = 5 * time.Minute
	defaultSilence = 30 * time.Second
)

// Run boots o.ISO and waits for one of o.Expect on the serial console. A
// boot under KVM that prints nothing for o.Silence is restarted once under
// TCG.
func Run(ctx context.Context, r *runner.Runner, o Options) (*Result, error) {
	if len(o.Expect) == 0 {
		o.Expect = []string{DefaultExpect}
	}
	o.Timeout = cmp.Or(o.Timeout, defaultTimeout)
	o.Silence = cmp.Or(o.Silence, defaultSilence)
	if _, err := os.Stat(o.ISO); err != nil {
		return nil, fmt.Errorf("boot test: %w", err)
	}
	if err := checkFirmware(o); err != nil {
		return nil, fmt.Errorf("boot test: %w", err)
	}
	choice, err := Choose(ctx, o.Arch, o.Accel)
	if err != nil {
		return nil, fmt.Errorf("boot test: %w", err)
	}
	return runUnder(ctx, r, o, choice)
}

// runUnder is Run once the accelerator is chosen.
func runUnder(ctx context.Context, r *runner.Runner, o Options, choice Choice) (*Result, error) {
	r.Log.Printf("boot test: accelerator %s", choice.Why)
	res, err := boot(ctx, r, o, choice.Accel)
	if errors.Is(err, errSilent) {
		why := fmt.Sprintf("kvm: present, but a boot printed nothing for %s under kvm; using tcg", o.Silence)
		r.Log.Printf("boot test: the console stayed silent for %s under kvm; restarting the boot once under tcg", o.Silence)
		if cmp.Or(o.Accel, "auto") == "auto" {
			if err := distrustKVM(why); err != nil {
				r.Log.Printf("boot test: %v", err)
			}
		}
		choice = Choice{Accel: "tcg", Why: why}
		res, err = boot(ctx, r, o, "tcg")
	}
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			f.ISO, f.Retry = o.ISO, retry(o, choice.Accel)
		}
		return nil, err
	}
	res.Why = choice.Why
	return res, nil
}

// boot is one boot of o.ISO under accel.
func boot(ctx context.Context, r *runner.Runner, o Options, accel string) (*Result, error) {
	want := strings.Join(quoted(o.Expect), " or ")
	res := &Result{Firmware: "bios", Accel: accel}
	if o.UEFI {
		res.Firmware = "uefi"
	}
	bootCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(o.Timeout, func() { cancel(fmt.Errorf("timed out after %s", o.Timeout)) })
	defer timer.Stop()
	// Only KVM is watched for silence: TCG has no faster fallback.
	silence := time.AfterFunc(o.Silence, func() { cancel(errSilent) })
	if accel != "kvm" {
		silence.Stop()
	}
	defer silence.Stop()

	var mu sync.Mutex
	var tail []string
	onLine := func(raw string) bool {
		line := strings.TrimRight(ansi.ReplaceAllString(raw, ""), " \t")
		if !strings.HasPrefix(line, "qemu-system-") {
			// QEMU's own warnings share the stream; the guest's output does not start so.
			silence.Stop()
		}
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
	case errors.Is(cause, errSilent):
		return nil, errSilent
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
