package build

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fbs/internal/backend"
	"fbs/internal/image"
	"fbs/internal/publish"
	"fbs/internal/spec"
)

// Stage is one step of a build: what it reads, runs and produces, named
// as the work dir's files ("root/", "parts/initrd.img") or the build's
// state ("kickstart"). A build is its plan, run in order (see runPlan),
// as osbuild runs a manifest's pipelines.
type Stage struct {
	Name     string   `json:"name"`
	Reads    []string `json:"reads,omitempty"`
	Runs     string   `json:"runs"`
	Produces []string `json:"produces,omitempty"`
	// Along runs the stage alongside the one before it (dracut writes
	// outside the root while mksquashfs or mkfs.erofs reads it).
	Along bool `json:"along,omitempty"`
	// Quiet is a step between stages, short and local: it is not timed,
	// logged or reported as a stage of its own.
	Quiet bool `json:"quiet,omitempty"`
	do    func(*build, context.Context) (string, error)
}

// Plan is what building req takes, stage by stage; it runs nothing and
// reads nothing but the request and the options.
func Plan(req *spec.Request, opts Options) []Stage {
	label := req.Label()
	koji := len(req.NVR)+len(req.BuildID) > 0
	// fromKoji adds the Koji builds' repo to what a stage that installs reads.
	fromKoji := func(reads ...string) []string {
		if koji {
			return append(reads, "koji-repo/")
		}
		return reads
	}
	native := opts.native()
	var p []Stage
	if !req.HasKickstart() {
		p = append(p, Stage{Name: "repos", Reads: []string{"request"}, Runs: "the [boot] section's repos", Produces: []string{"repos"}, Quiet: true,
			do: (*build).requestRepos})
	} else {
		p = append(p, Stage{Name: "kickstart", Reads: []string{"request"}, Runs: "read the kickstart, %include flattened", Produces: []string{"kickstart", "repos"},
			do: (*build).readKickstart})
	}
	if koji {
		p = append(p, Stage{Name: "koji", Reads: []string{"request"}, Runs: "download the Koji builds' RPMs; createrepo_c", Produces: []string{"koji-repo/"},
			do: (*build).sideRepo})
	}
	if req.HasKickstart() {
		p = append(p, Stage{Name: "kickstart-file", Reads: fromKoji("kickstart"), Runs: "write the flattened kickstart, with the Koji repo's line", Produces: []string{label + ".ks"}, Quiet: true,
			do: (*build).writeKickstart})
	}
	if !native {
		reads := fromKoji("request")
		if req.HasKickstart() {
			reads = append(reads, label+".ks")
		}
		program, _ := backend.Tool(opts.Backend)
		p = append(p, Stage{Name: opts.Backend, Reads: reads, Runs: program, Produces: []string{label + ".iso"}, do: (*build).external})
		return append(p, finish(req, opts, label, false)...)
	}
	switch req.Type {
	case "live":
		p = append(p,
			Stage{Name: "packages", Reads: fromKoji("repos", "kickstart"), Runs: "dnf install the kickstart's %packages", Produces: []string{"root/"},
				do: func(b *build, ctx context.Context) (string, error) { return b.install(ctx, b.ks.Packages) }},
			Stage{Name: "system", Reads: []string{"kickstart", "root/"}, Runs: "apply the installed system's commands (sysconfig)", Produces: []string{"root/"},
				do: (*build).system},
			Stage{Name: "post", Reads: []string{"kickstart", "root/"}, Runs: "the kickstart's %post scripts", Produces: []string{"root/"},
				do: (*build).post})
	case "boot":
		p = append(p,
			runtimePackages(fromKoji("repos", "request")),
			installerSetup(),
			Stage{Name: "treeinfo", Reads: []string{"request"}, Runs: "write .discinfo and .treeinfo", Produces: []string{"parts/.discinfo", "parts/.treeinfo"}, Quiet: true,
				do: (*build).installerTreeInfo})
	case "dvd":
		p = append(p,
			Stage{Name: "gather", Reads: fromKoji("repos", "kickstart"), Runs: "dnf install --downloadonly the %packages' closure into an empty root", Produces: []string{"dvd/Packages/"},
				do: (*build).gather},
			Stage{Name: "repo", Reads: []string{"repos", "dvd/Packages/"}, Runs: "createrepo_c with the repos' comps", Produces: []string{"dvd/repodata/"},
				do: (*build).dvdRepo},
			runtimePackages(fromKoji("repos", "request")),
			installerSetup(),
			Stage{Name: "media-files", Reads: []string{"request"}, Runs: "write media.repo and .discinfo", Produces: []string{"dvd/media.repo", "dvd/.discinfo"}, Quiet: true,
				do: (*build).dvdFiles})
	}
	p = append(p,
		Stage{Name: "kernel", Reads: []string{"root/"}, Runs: "find the kernel and bootloaders in the root", Produces: []string{"kernel"}, Quiet: true,
			do: (*build).findBoot},
		Stage{Name: "initramfs", Reads: []string{"root/", "kernel"}, Runs: "dracut, chrooted in the root", Produces: []string{"parts/initrd.img"},
			do: (*build).initramfs},
		Stage{Name: req.RootFS(), Reads: []string{"root/"}, Runs: "rpm -qa; " + rootImageRuns(req), Produces: []string{"packages", "parts/root.img"}, Along: true,
			do: (*build).compressRoot},
		bootloaderStage(req))
	if req.Type == "dvd" {
		reads := []string{"parts/root.img", "parts/initrd.img", "kernel"}
		if !biosMedia(req) {
			reads = append(reads, "parts/efiboot.img")
		}
		p = append(p, Stage{Name: "treeinfo", Reads: reads, Runs: "write .treeinfo with the images' checksums", Produces: []string{"dvd/.treeinfo"}, Quiet: true,
			do: (*build).dvdTreeInfo})
	}
	p = append(p, Stage{Name: "iso", Reads: isoReads(req), Runs: "xorrisofs, implantisomd5", Produces: []string{label + ".iso"}, do: (*build).iso})
	return append(p, finish(req, opts, label, true)...)
}

func runtimePackages(reads []string) Stage {
	return Stage{Name: "packages", Reads: reads, Runs: "dnf install the installer's runtime package set", Produces: []string{"root/"},
		do: func(b *build, ctx context.Context) (string, error) { return b.install(ctx, b.runtimeSet()) }}
}

func installerSetup() Stage {
	return Stage{Name: "installer-setup", Reads: []string{"root/"}, Runs: "start anaconda where it is installed; write /.buildstamp", Produces: []string{"root/"}, Quiet: true,
		do: (*build).installerSetup}
}

// rootImageRuns is what writes the root image: squashfs reuses the
// compressed blocks of earlier images where it can (see compressRoot).
func rootImageRuns(req *spec.Request) string {
	if req.RootFS() == "squashfs" {
		return "mksquashfs, of only the files no earlier image holds"
	}
	return rootImageTool[req.RootFS()]
}

// menuReads is what the boot menu comes from: the kickstart's bootloader
// command, or the request's [boot] section.
func menuReads(req *spec.Request) []string {
	if req.HasKickstart() {
		return []string{"kernel", "kickstart"}
	}
	return []string{"kernel", "request"}
}

// bootloaderStage makes GRUB's menu and the firmware's boot images: BIOS
// El Torito's only where the arch's media boot BIOS.
func bootloaderStage(req *spec.Request) Stage {
	runs, images := "grub-mkimage, mkfs.fat, mcopy", []string{"parts/grub.cfg", "parts/eltorito.img", "parts/efiboot.img"}
	if !biosMedia(req) {
		runs, images = "mkfs.fat, mcopy", []string{"parts/grub.cfg", "parts/efiboot.img"}
	}
	return Stage{Name: "bootloader", Reads: menuReads(req), Runs: runs, Produces: images, do: (*build).bootloader}
}

// biosMedia is whether req's media boot BIOS as well as UEFI.
func biosMedia(req *spec.Request) bool {
	p, err := image.PlatformOf(req.Arch)
	return err != nil || p.BIOS
}

// isoReads is what goes onto the ISO besides the boot files.
func isoReads(req *spec.Request) []string {
	reads := []string{"kernel", "parts/initrd.img", "parts/root.img", "parts/grub.cfg", "parts/eltorito.img", "parts/efiboot.img"}
	if !biosMedia(req) {
		reads = slices.DeleteFunc(reads, func(r string) bool { return r == "parts/eltorito.img" })
	}
	switch req.Type {
	case "boot":
		reads = append(reads, "parts/.discinfo", "parts/.treeinfo")
	case "dvd":
		reads = append(reads, "dvd/Packages/", "dvd/repodata/", "dvd/media.repo", "dvd/.discinfo", "dvd/.treeinfo")
	}
	return reads
}

// finish are the stages after the ISO: boot tests, checksums and
// manifest, publishing.
func finish(req *spec.Request, opts Options, label string, native bool) []Stage {
	var p []Stage
	for _, o := range requestedBoots(opts, req) {
		name, fw := "boot-bios", "BIOS"
		if o.UEFI {
			name, fw = "boot-uefi", "UEFI"
		}
		p = append(p, Stage{Name: name, Reads: []string{label + ".iso"}, Runs: fmt.Sprintf("boot the ISO in QEMU with %s firmware", fw),
			do: func(b *build, ctx context.Context) (string, error) { return b.bootTest(ctx, o) }})
	}
	reads := []string{label + ".iso"}
	if req.HasKickstart() {
		reads = append(reads, label+".ks")
	}
	if native {
		reads = append(reads, "packages")
	}
	p = append(p, Stage{Name: "manifest", Reads: reads, Runs: "sha256 the artifacts; write manifest.json", Produces: []string{"CHECKSUM", "manifest.json", "artifacts"},
		do: (*build).manifest})
	var runs []string
	if opts.Store != "" {
		runs = append(runs, "move the artifacts into the service's store")
	}
	if req.Staging != "" {
		runs = append(runs, "put the artifacts, then the log, where the request asks (staging=)")
	}
	if len(runs) == 0 {
		return p
	}
	return append(p, Stage{Name: publish.Stage, Reads: []string{"artifacts"}, Runs: strings.Join(runs, "; "),
		do: (*build).publish})
}

// Text renders a plan as people read it: a stage a paragraph, what it
// reads, runs and produces. Quiet stages are in parentheses; a stage that
// runs alongside the one before says so.
func Text(plan []Stage) string {
	var b strings.Builder
	for i, s := range plan {
		name := s.Name
		if s.Quiet {
			name = "(" + name + ")"
		}
		if s.Along {
			name += " [alongside " + plan[i-1].Name + "]"
		}
		fmt.Fprintf(&b, "%2d %s\n   reads    %s\n   runs     %s\n", i+1, name, strings.Join(s.Reads, ", "), s.Runs)
		if len(s.Produces) > 0 {
			fmt.Fprintf(&b, "   produces %s\n", strings.Join(s.Produces, ", "))
		}
	}
	return b.String()
}
