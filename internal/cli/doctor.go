package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"fbs/internal/backend"
	"fbs/internal/bootcheck"
	"fbs/internal/hostarch"
	"fbs/internal/hosttool"
)

func doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "doctor",
		Short:   "List the host tools fbs needs, their versions, and what provides the missing ones",
		Example: `  fbs doctor`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "TOOL\tVERSION\tPATH\tDEBIAN PACKAGE\tUSED FOR")
			var missing []string
			for _, t := range hosttool.Tools {
				v := hosttool.Version(cmd.Context(), t)
				path := hosttool.Path(t.Name)
				if v == "missing" {
					path = "-"
					if t.Optional {
						v = "missing (optional)"
					} else {
						missing = append(missing, t.Package)
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, v, path, t.Package, t.For)
			}
			fw := "present"
			if _, err := os.Stat(bootcheck.OVMF); err != nil {
				fw = "missing"
				missing = append(missing, "ovmf")
			}
			fmt.Fprintf(w, "OVMF firmware\t%s\t%s\tovmf\tUEFI boot tests\n", fw, bootcheck.OVMF)
			aarch64 := slices.Contains(hostarch.Buildable(), "aarch64")
			if aarch64 {
				missing = append(missing, aarch64Tools(cmd.Context(), w)...)
			}
			accel := "unknown"
			choice, err := bootcheck.Choose(cmd.Context(), "", cmp.Or(os.Getenv("FBS_ACCEL"), "auto"))
			if err == nil {
				accel = choice.Accel
			}
			fmt.Fprintf(w, "accelerator\t%s\t/dev/kvm\t-\tboot tests\n", accel)
			w.Flush()
			if err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "\nboot tests' accelerator: %v\n", err)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "\nboot tests' accelerator: %s\n", choice.Why)
			}
			if aarch64 {
				if c, err := bootcheck.Choose(cmd.Context(), "aarch64", cmp.Or(os.Getenv("FBS_ACCEL"), "auto")); err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "aarch64 boot tests' accelerator: %v\n", err)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "aarch64 boot tests' accelerator: %s\n", c.Why)
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\narches (a request's arch, fbs worker --arch):")
			for _, arch := range hostarch.Media {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-18s %s\n", arch, archState(arch))
			}
			exposed := hostarch.Exposed()
			if len(exposed) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "\nconfined builds are refused here: %v\n", hostarch.ExposedError(exposed))
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\nbackends (fbs build --backend NAME):")
			fmt.Fprintln(cmd.OutOrStdout(), "  native             usable (the default)")
			for _, name := range backend.Names[1:] {
				program, typ := backend.Tool(name)
				state := "usable"
				if _, err := exec.LookPath(program); err != nil {
					state = fmt.Sprintf("not here: needs %s (Fedora package %s)", program, backend.Package(name))
				}
				if name == "kiwi" {
					state += "; fbs makes no kiwi description yet"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "  %-18s %s, for %s images\n", name, state, typ)
			}
			if len(missing) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "\nto install what is missing: apt-get install %s\n", joinUnique(missing))
				return errors.New("host tools missing")
			}
			if len(exposed) > 0 {
				return errors.New("binfmt_misc interpreters exposed to builds")
			}
			return nil
		},
	}
}

// aarch64Tools lists what aarch64 boot tests need, as rows of doctor's
// table, and returns the packages of those missing.
func aarch64Tools(ctx context.Context, w io.Writer) (missing []string) {
	t := bootcheck.QEMUAArch64
	v, path := hosttool.Version(ctx, t), hosttool.Path(t.Name)
	if v == "missing" {
		path = "-"
		missing = append(missing, t.Package)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, v, path, t.Package, t.For)
	fw := "present"
	if bootcheck.CheckAArch64Firmware() != nil {
		fw = "missing"
		missing = append(missing, "qemu-efi-aarch64")
	}
	fmt.Fprintf(w, "AAVMF firmware\t%s\t%s\tqemu-efi-aarch64\taarch64 boot tests\n", fw, filepath.Dir(bootcheck.AAVMFCode))
	return missing
}

// archState says whether this host builds arch's media, and how or why not.
func archState(arch string) string {
	if arch == hostarch.Native() {
		return "buildable (this host's own)"
	}
	if err := hostarch.Check(arch); err != nil {
		return "not buildable: " + err.Error()
	}
	return fmt.Sprintf("buildable: its programs run through qemu-user-static (binfmt_misc entry qemu-%s)", arch)
}

func joinUnique(list []string) string {
	seen := map[string]bool{}
	out := ""
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			if out != "" {
				out += " "
			}
			out += s
		}
	}
	return out
}
