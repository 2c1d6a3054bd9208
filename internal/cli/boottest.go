package cli

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/bootcheck"
	"fbs/internal/buildlog"
	"fbs/internal/hostarch"
	"fbs/internal/runner"
)

func bootTestCmd() *cobra.Command {
	var (
		uefi    bool
		arch    string
		expect  []string
		timeout time.Duration
		logDir  string
		accel   accelMode
	)
	cmd := &cobra.Command{
		Use:   "boot-test ISO",
		Short: "Boot an ISO in QEMU and wait for a line on its serial console",
		Long: `Boots ISO in QEMU, streams the serial console here and into a log, and passes
when the expected text appears. It fails on a kernel panic, on QEMU exiting first,
or on timeout, with the last console lines.

--accel auto (the default) uses KVM only where a probe guest ran faster under it
than under TCG (a /dev/kvm that opens can be far slower: nested virtualisation);
the verdict is kept until the machine reboots. A boot under KVM that prints
nothing for 30 s is restarted once under TCG.

An aarch64 ISO (EFI/BOOT/BOOTAA64.EFI, or --arch aarch64) boots on QEMU's virt
machine with AAVMF (UEFI only, so --uefi is implied), under TCG on other hosts.`,
		Example: `  fbs boot-test FBS-Demo-Live.iso --expect "Welcome to the fbs demo"
  fbs boot-test boot.iso --uefi --accel tcg --timeout 10m
  fbs boot-test FBS-Demo-Live-aarch64.iso --timeout 15m`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if arch == "" {
				a, err := bootcheck.ISOArch(args[0])
				if err != nil {
					return err
				}
				arch = cmp.Or(a, hostarch.Native())
			}
			if !slices.Contains(hostarch.Media, arch) {
				return usageError{fmt.Errorf("--arch %s: fbs boot-tests %s media", arch, strings.Join(hostarch.Media, " and "))}
			}
			if arch == "aarch64" {
				uefi = true
			}
			if err := os.MkdirAll(logDir, 0o755); err != nil {
				return err
			}
			logPath := filepath.Join(logDir, "boot-test-"+time.Now().UTC().Format("20060102-150405")+".log")
			log, err := buildlog.Create(logPath)
			if err != nil {
				return err
			}
			defer log.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "fbs: boot test of %s (%s); log %s\n", args[0], arch, logPath)
			res, err := bootcheck.Run(cmd.Context(), runner.New(log), bootcheck.Options{
				ISO: args[0], Arch: arch, UEFI: uefi, Expect: expect, Timeout: timeout, Console: out, Accel: string(accel),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "fbs: boot test passed (%s, %s) in %.1f s: %q\n  accelerator %s\n", res.Firmware, res.Accel, res.Seconds, res.Line, res.Why)
			return nil
		},
	}
	cmd.Flags().BoolVar(&uefi, "uefi", false, "boot with UEFI firmware (OVMF) instead of BIOS")
	cmd.Flags().StringVar(&arch, "arch", "", "the ISO's architecture: "+strings.Join(hostarch.Media, " or ")+" (default: its UEFI loader's, EFI/BOOT/BOOT*.EFI, else this host's)")
	cmd.Flags().StringArrayVar(&expect, "expect", []string{bootcheck.DefaultExpect}, "console text that makes the test pass (repeat: any of them)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long the boot may take")
	cmd.Flags().StringVar(&logDir, "log-dir", defaultWork, "where the boot log goes")
	accel.register(cmd)
	return cmd
}
