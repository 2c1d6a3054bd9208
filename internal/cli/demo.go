package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/build"
	"fbs/internal/buildlog"
	"fbs/internal/demo"
	"fbs/internal/publish"
	"fbs/internal/runner"
	"fbs/internal/spec"
)

func demoRepoCmd() *cobra.Command {
	var cache, chain, arch string
	cmd := &cobra.Command{
		Use:   "repo DIR",
		Short: "Write the demo distro's RPM repository to DIR",
		Long: `Builds the demo distro's RPM repository in DIR with rpmbuild and createrepo_c,
from Debian's packages (downloaded once into the cache). With --chain dracut (the
default) it boots as Fedora does: Debian's dracut with dmsquash-live, systemd,
udev and the closure of their dependencies, one RPM per Debian package, with a
kernel, GRUB and comps (core, live-boot, fbs-demo-live-environment). With
--chain busybox it is Debian's busybox-static in dracut's and init's places,
quick to build and boot. --arch aarch64 makes it of Debian's arm64 packages,
for UEFI-only aarch64 media, with the same groups (the host runs arm64's
busybox through qemu-user-static). Nothing is rebuilt when nothing changed.
DIR belongs to fbs: its Packages/ and repodata/ are replaced.`,
		Example: `  fbs demo repo /srv/demo-repo
  fbs demo repo --chain busybox /srv/demo-repo-busybox
  fbs demo repo --arch aarch64 /srv/demo-repo-dracut-aarch64`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, a, err := parseDemoFlags(chain, arch)
			if err != nil {
				return err
			}
			_, err = demoRepo(cmd, args[0], cache, c, a)
			return err
		},
	}
	cmd.Flags().StringVar(&cache, "cache", defaultCache, "cache for Debian packages and build scratch space")
	registerDemoFlags(cmd, &chain, &arch)
	return cmd
}

// registerDemoFlags adds the flags that choose a demo repo: --chain and --arch.
func registerDemoFlags(cmd *cobra.Command, chain, arch *string) {
	cmd.Flags().StringVar(chain, "chain", string(demo.Dracut), "boot chain: dracut (Debian's dracut, systemd, udev) or busybox")
	cmd.Flags().StringVar(arch, "arch", "x86_64", "architecture: "+strings.Join(demo.Arches, " or "))
}

func parseDemoFlags(chain, arch string) (demo.Chain, string, error) {
	c, err := demo.ParseChain(chain)
	if err != nil {
		return "", "", usageError{err}
	}
	a, err := demo.ParseArch(arch)
	if err != nil {
		return "", "", usageError{err}
	}
	return c, a, nil
}

// demoRepo builds (or reuses) the demo repo of a chain and arch in dir
// and returns its absolute path.
func demoRepo(cmd *cobra.Command, dir, cache string, chain demo.Chain, arch string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	logPath := filepath.Join(cache, "demo-repo.log")
	log, err := buildlog.Create(logPath)
	if err != nil {
		return "", err
	}
	defer log.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "demo repo: %s (log %s)\n", dir, logPath)
	start := time.Now()
	built, err := demo.Repo(cmd.Context(), runner.New(log), dir, cache, chain, arch)
	if err != nil {
		return "", err
	}
	if built {
		fmt.Fprintf(out, "demo repo: built in %s\n", time.Since(start).Round(10*time.Millisecond))
	} else {
		fmt.Fprintf(out, "demo repo: up to date (%s)\n", time.Since(start).Round(10*time.Millisecond))
	}
	return dir, nil
}

func demoCmd() *cobra.Command {
	var f buildFlags
	var uefi bool
	var typ, chain, arch string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Build the demo distro's repo and a live (or boot) ISO from it, and boot it in QEMU",
		Long: `Builds the demo distro's RPM repository (from Debian's archive, cached), writes a
request (and kickstart) for a live ISO of it, or with --type boot for a boot ISO,
builds the ISO and boots it in QEMU: with --chain dracut (the default) through
dracut's dmsquash-live to systemd, as Fedora's live images boot, with
--chain busybox through busybox scripts (quicker),
then prints the ISO, its size, each stage's time, the boot time and the console
line the boot test waited for. With --arch aarch64 the demo distro, the ISO and
the boot are aarch64's (UEFI only: QEMU's virt machine with AAVMF, emulated
on other hosts).`,
		Example: `  sudo fbs demo
  sudo fbs demo --type boot --uefi
  sudo fbs demo --compression zstd --keep
  sudo fbs demo --chain busybox
  sudo fbs demo --chain busybox --arch aarch64`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if done, err := privateMounts(cmd); done {
				return err
			}
			c, a, err := parseDemoFlags(chain, arch)
			if err != nil {
				return err
			}
			repo, err := demoRepo(cmd, filepath.Join(f.cache, c.ArchRepoDir(a)), f.cache, c, a)
			if err != nil {
				return err
			}
			specPath, err := demo.WriteArchRequest(filepath.Join(f.cache, "demo-request"), c, a, repo, typ, "xz")
			if err != nil {
				return usageError{err}
			}
			req, err := spec.Load(specPath)
			if err != nil {
				return err
			}
			f.boot.firmware = "bios"
			if !cmd.Flags().Changed("expect") {
				f.boot.expect = []string{map[string]string{"live": demo.Expect, "boot": demo.ExpectInstaller, "dvd": demo.ExpectInstaller}[typ]}
			}
			switch {
			case a == "aarch64":
				// aarch64 media boot with UEFI alone.
				f.boot.firmware = "uefi"
			case uefi:
				f.boot.firmware = "bios,uefi"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo request: %s\n", specPath)
			res, err := runBuild(cmd.Context(), cmd, req, f)
			if err != nil {
				return err
			}
			printDemoSummary(cmd, res)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().Lookup("boot-test").Hidden = true
	// The demo stages and mails nothing: its help leaves those out.
	hideFlags(cmd, "smtp-", "s3-", "webhook", "backend")
	cmd.Flags().BoolVar(&uefi, "uefi", false, "also boot the ISO with UEFI firmware (aarch64's boots with UEFI alone)")
	cmd.Flags().StringVar(&typ, "type", "live", "image type: live, boot or dvd")
	registerDemoFlags(cmd, &chain, &arch)
	cmd.AddCommand(demoRepoCmd(), demoRequestCmd())
	return cmd
}

func demoRequestCmd() *cobra.Command {
	var cache, typ, compression, chain, arch string
	cmd := &cobra.Command{
		Use:   "request DIR",
		Short: "Write the demo's request (and kickstart) for an image type into DIR, and print its path",
		Long: `Writes the request fbs demo builds, in the seed's format, for --type live, boot or
dvd, using the demo repo in the cache (build it with fbs demo repo): a starting point
for requests of your own.`,
		Example: `  fbs demo request /tmp/req --type live   # prints /tmp/req/live.conf
  fbs demo request /tmp/req --type dvd --compression zstd
  fbs demo request /tmp/req --chain busybox --arch aarch64`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, a, err := parseDemoFlags(chain, arch)
			if err != nil {
				return err
			}
			path, err := demo.WriteArchRequest(args[0], c, a, filepath.Join(cache, c.ArchRepoDir(a)), typ, compression)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&cache, "cache", defaultCache, "the cache holding the demo repo (demo-repo-dracut/, demo-repo/, demo-repo-dracut-aarch64/, …)")
	cmd.Flags().StringVar(&typ, "type", "live", "image type: live, boot or dvd")
	cmd.Flags().StringVar(&compression, "compression", "xz", "squashfs compressor")
	registerDemoFlags(cmd, &chain, &arch)
	return cmd
}

func printDemoSummary(cmd *cobra.Command, res *build.Result) {
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, "\ndemo summary")
	for _, a := range res.Artifacts {
		if strings.HasSuffix(a.Name, ".iso") {
			fmt.Fprintf(out, "  ISO      %s\n  size     %s\n", a.Path, publish.HumanSize(a.Size))
		}
	}
	var stages []string
	for _, s := range res.Stages {
		stages = append(stages, fmt.Sprintf("%s %.1fs", s.Name, s.Seconds))
	}
	fmt.Fprintf(out, "  stages   %s\n", strings.Join(stages, ", "))
	for _, b := range res.Boots {
		fmt.Fprintf(out, "  boot     %s (%s) %.1fs, console: %q\n", b.Firmware, b.Accel, b.Seconds, b.Line)
	}
	if len(res.Boots) > 0 {
		fmt.Fprintf(out, "  accel    %s\n", res.Boots[len(res.Boots)-1].Why)
	}
}
