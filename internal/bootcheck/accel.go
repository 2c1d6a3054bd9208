package bootcheck

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"fbs/internal/hostarch"
)

// Modes are the values of --accel: auto probes the host, kvm and tcg force
// one accelerator.
var Modes = []string{"auto", "kvm", "tcg"}

// CheckMode refuses an --accel value that is none of Modes.
func CheckMode(mode string) error {
	for _, m := range Modes {
		if mode == m {
			return nil
		}
	}
	return fmt.Errorf("unknown accelerator %q (%s)", mode, strings.Join(Modes, ", "))
}

// Choice is the accelerator a boot runs under, and why.
type Choice struct {
	Accel string `json:"accel"`
	Why   string `json:"why"`
	// Boot is the host's boot id the verdict holds for: a probe's verdict
	// lasts as long as the machine's uptime.
	Boot string `json:"boot,omitempty"`
}

// verdictFile keeps auto's verdict. /run is emptied at each boot; the boot
// id inside guards against a /run that is not.
var verdictFile = "/run/fbs/accel.json"

// Choose resolves mode to an accelerator for a guest of arch ("" is
// x86_64). KVM runs only the host's own arch: any other guest runs under
// TCG. For an x86_64 guest, auto uses KVM only where a probe guest ran
// faster under it than under TCG: a /dev/kvm that opens can still be far
// slower than TCG (nested virtualisation without unrestricted-guest
// support emulates real mode, where firmware and GRUB run, one instruction
// at a time). The verdict is cached for the machine's uptime. The probe
// guest is x86 code, so auto keeps an aarch64 guest on an aarch64 host
// to TCG; --accel kvm uses KVM there.
func Choose(ctx context.Context, arch, mode string) (Choice, error) {
	guest, host := cmp.Or(arch, "x86_64"), hostarch.Native()
	switch mode {
	case "tcg":
		return Choice{Accel: "tcg", Why: "tcg: asked for (--accel tcg)"}, nil
	case "kvm":
		if guest != host {
			return Choice{}, fmt.Errorf("--accel kvm: an %s guest cannot run under kvm on an %s host (kvm runs the host's own arch); use --accel tcg", guest, host)
		}
		if err := openKVM(); err != nil {
			return Choice{}, fmt.Errorf("--accel kvm: %w", err)
		}
		return Choice{Accel: "kvm", Why: "kvm: asked for (--accel kvm)"}, nil
	case "", "auto":
	default:
		return Choice{}, CheckMode(mode)
	}
	if guest != host {
		return Choice{Accel: "tcg", Why: fmt.Sprintf("%s guest on an %s host: tcg", guest, host)}, nil
	}
	if guest != "x86_64" {
		return Choice{Accel: "tcg", Why: fmt.Sprintf("%s guest on an %s host: auto has no probe guest for %s (--accel kvm to use kvm); using tcg", guest, host, guest)}, nil
	}
	if err := openKVM(); err != nil {
		return Choice{Accel: "tcg", Why: fmt.Sprintf("kvm: %v; using tcg", err)}, nil
	}
	boot := bootID()
	unlock, err := lockVerdict()
	if err != nil {
		return Choice{}, err
	}
	defer unlock()
	if c, ok := readVerdict(boot); ok {
		return c, nil
	}
	c, err := probeHost(ctx)
	if err != nil {
		return Choice{}, err
	}
	c.Boot = boot
	return c, writeVerdict(c)
}

// distrustKVM records that a boot under KVM went silent, so that the boots
// after it in this uptime go straight to TCG.
func distrustKVM(why string) error {
	unlock, err := lockVerdict()
	if err != nil {
		return err
	}
	defer unlock()
	return writeVerdict(Choice{Accel: "tcg", Why: why, Boot: bootID()})
}

func openKVM() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

// lockVerdict serialises probes: builds starting together wait for one
// probe instead of each running its own.
func lockVerdict() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(verdictFile), 0o755); err != nil {
		return nil, fmt.Errorf("accelerator verdict: %w", err)
	}
	f, err := os.OpenFile(verdictFile+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("accelerator verdict: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("accelerator verdict: %w", err)
	}
	return func() { f.Close() }, nil
}

func readVerdict(boot string) (Choice, bool) {
	var c Choice
	data, err := os.ReadFile(verdictFile)
	if err != nil || json.Unmarshal(data, &c) != nil || c.Boot != boot || boot == "" {
		return Choice{}, false
	}
	return c, c.Accel == "kvm" || c.Accel == "tcg"
}

func writeVerdict(c Choice) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(verdictFile), ".accel-*")
	if err != nil {
		return fmt.Errorf("accelerator verdict: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("accelerator verdict: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("accelerator verdict: %w", err)
	}
	if err := os.Rename(tmp.Name(), verdictFile); err != nil {
		return fmt.Errorf("accelerator verdict: %w", err)
	}
	return nil
}

// probeHost boots the probe guest under TCG, then under KVM with a limit
// of twice TCG's time (at least 5 s), and keeps the faster.
func probeHost(ctx context.Context) (Choice, error) {
	tcg, err := probe(ctx, "tcg", time.Minute)
	if err != nil {
		return Choice{}, fmt.Errorf("accelerator probe under tcg: %w", err)
	}
	limit := max(5*time.Second, 2*tcg)
	kvm, err := probe(ctx, "kvm", limit)
	var slow *probeTimeout
	switch {
	case errors.As(err, &slow):
		return Choice{Accel: "tcg", Why: fmt.Sprintf("kvm: present, but a probe guest had not finished after %s under kvm (tcg: %s); using tcg",
			secs(limit), secs(tcg))}, nil
	case err != nil:
		return Choice{Accel: "tcg", Why: fmt.Sprintf("kvm: present, but a probe guest failed under kvm (%v); using tcg", err)}, nil
	case kvm > tcg:
		return Choice{Accel: "tcg", Why: fmt.Sprintf("kvm: present, but a probe guest needed %s under kvm and %s under tcg; using tcg",
			secs(kvm), secs(tcg))}, nil
	}
	return Choice{Accel: "kvm", Why: fmt.Sprintf("kvm: a probe guest needed %s under kvm and %s under tcg; using kvm", secs(kvm), secs(tcg))}, nil
}

func secs(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}
