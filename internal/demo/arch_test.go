package demo

import (
	"context"
	"debug/pe"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fbs/internal/buildlog"
	"fbs/internal/fbstest"
	"fbs/internal/hostarch"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
	"fbs/internal/spec"
)

// TestArchPackages: what each arch takes from Debian, and the names and
// paths its packages and dirs have.
func TestArchPackages(t *testing.T) {
	tests := map[string]struct {
		busyboxDebs, dracutDebs []string
		bootloaders             []string
		repoDirs                [2]string // busybox's, dracut's
		debDir, kernelGlob      string
		image, console          string
		mkimage                 []string // -O and -d of grub-mkimage
		virtioMMIO              bool
	}{
		"x86_64": {
			busyboxDebs: []string{"busybox-static", "grub-pc-bin", "grub-efi-amd64-bin"},
			dracutDebs:  []string{"grub-pc-bin", "grub-efi-amd64-bin"},
			bootloaders: []string{"grub2-pc-modules", "grub2-efi-x64-cdboot"},
			repoDirs:    [2]string{"demo-repo", "demo-repo-dracut"},
			debDir:      "debs", kernelGlob: "linux-image-*-amd64_*.deb",
			image: "gcdx64.efi", console: "ttyS0",
			mkimage: []string{"-O", "x86_64-efi", "-d", "/src/usr/lib/grub/x86_64-efi"},
		},
		"aarch64": {
			busyboxDebs: []string{"busybox-static", "grub-efi-arm64-bin"},
			dracutDebs:  []string{"grub-efi-arm64-bin"},
			bootloaders: []string{"grub2-efi-aa64-cdboot"},
			repoDirs:    [2]string{"demo-repo-aarch64", "demo-repo-dracut-aarch64"},
			debDir:      "debs-aarch64", kernelGlob: "linux-image-*-arm64_*.deb",
			image: "gcdaa64.efi", console: "ttyAMA0",
			mkimage:    []string{"-O", "arm64-efi", "-d", "/src/usr/lib/grub/arm64-efi"},
			virtioMMIO: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := archNamed(name)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %q, want %q", what, got, want)
				}
			}
			check("busybox chain's debs", Busybox.debs(a), tt.busyboxDebs)
			check("dracut chain's debs", Dracut.debs(a), tt.dracutDebs)
			check("bootloaders", a.bootloaders(), tt.bootloaders)
			check("repo dirs", []string{Busybox.ArchRepoDir(name), Dracut.ArchRepoDir(name)}, tt.repoDirs[:])
			check("deb dir", a.debDir(), tt.debDir)
			check("kernel glob", a.kernelGlob(), tt.kernelGlob)
			check("cdboot image", a.efi.image, tt.image)
			check("console", a.console, tt.console)
			check("grub-mkimage", a.efi.mkimageArgs("/src", "/out")[1:5], tt.mkimage)
			if got := slices.Contains(a.modules, "virtio_mmio"); got != tt.virtioMMIO {
				t.Errorf("virtio_mmio among the modules: %v", got)
			}
			if !slices.Equal(a.modules[:len(modules)], modules) {
				t.Errorf("modules %q lack the common ones", a.modules)
			}
		})
	}
	if _, err := ParseArch("ppc64le"); err == nil || !strings.Contains(err.Error(), "x86_64 or aarch64") {
		t.Errorf("ParseArch(ppc64le): %v", err)
	}
}

// TestComps: both chains' comps have the same groups on every arch, the
// live-boot group holding that arch's bootloaders.
func TestComps(t *testing.T) {
	for _, name := range Arches {
		for _, comps := range []string{"files/comps.xml", "files/dracut-chain/comps.xml"} {
			t.Run(name+" "+comps, func(t *testing.T) {
				b := &builder{arch: arches[name]}
				out := filepath.Join(t.TempDir(), "comps.xml")
				if err := b.writeComps(comps, out); err != nil {
					t.Fatal(err)
				}
				data, _ := os.ReadFile(out)
				text := string(data)
				for _, id := range []string{"<id>core</id>", "<id>live-boot</id>"} {
					if !strings.Contains(text, id) {
						t.Errorf("no group %s", id)
					}
				}
				liveBoot := text[strings.Index(text, "<id>live-boot</id>"):]
				for _, bl := range []string{"grub2-pc-modules", "grub2-efi-x64-cdboot", "grub2-efi-aa64-cdboot"} {
					want := slices.Contains(arches[name].bootloaders(), bl)
					if got := strings.Contains(liveBoot, ">"+bl+"<"); got != want {
						t.Errorf("live-boot holds %s: %v, want %v", bl, got, want)
					}
				}
			})
		}
	}
}

// TestWriteArchRequest: the demo's requests name the arch, put the
// kernel's console on its serial port, and parse.
func TestWriteArchRequest(t *testing.T) {
	tests := map[string]struct {
		chain         Chain
		arch, console string
	}{
		"busybox x86_64":  {Busybox, "x86_64", "console=ttyS0,115200"},
		"busybox aarch64": {Busybox, "aarch64", "console=ttyAMA0,115200"},
		"dracut aarch64":  {Dracut, "aarch64", "console=ttyAMA0,115200"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			repo := "/var/cache/fbs/" + tt.chain.ArchRepoDir(tt.arch)
			conf, err := WriteArchRequest(dir, tt.chain, tt.arch, repo, "live", "zstd")
			if err != nil {
				t.Fatal(err)
			}
			req, err := spec.Load(conf)
			if err != nil || req.Arch != tt.arch {
				t.Fatalf("the live request: %+v %v", req, err)
			}
			lines, err := kickstart.Flatten(context.Background(), &kickstart.FileLoader{Dir: req.Dir}, req.Live.Config)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kickstart.Parse(lines); err != nil {
				t.Fatalf("the demo kickstart does not parse: %v", err)
			}
			text, _ := os.ReadFile(filepath.Join(dir, "demo.ks"))
			if !strings.Contains(string(text), `--append="`+tt.console+`"`) || strings.Contains(string(text), "grub2-") {
				t.Errorf("kickstart (console %s, bootloaders from comps):\n%s", tt.console, text)
			}
			boot, err := WriteArchRequest(dir, tt.chain, tt.arch, repo, "boot", "zstd")
			if err != nil {
				t.Fatal(err)
			}
			req, err = spec.Load(boot)
			if err != nil || req.Arch != tt.arch || req.Boot.Label != "fbs-demo-1-"+tt.arch || !strings.Contains(req.Boot.Append, tt.console) {
				t.Errorf("the boot request: %+v %v", req, err)
			}
		})
	}
	if _, err := WriteArchRequest(t.TempDir(), Busybox, "s390x", "/repo", "live", "xz"); err == nil {
		t.Error("an unknown arch passed")
	}
}

// TestRepoAarch64 builds the busybox chain's aarch64 repo from Debian's
// arm64 packages (downloaded into $FBS_TEST_CACHE, or a fresh dir) and
// checks its kernel and busybox are aarch64 RPMs and its GRUB image an
// arm64 EFI program.
func TestRepoAarch64(t *testing.T) {
	for tool, pkg := range map[string]string{"rpmbuild": "rpm", "rpm": "rpm", "rpm2archive": "rpm2cpio", "createrepo_c": "createrepo-c",
		"grub-mkimage": "grub-common", "depmod": "kmod", "dpkg-deb": "dpkg", "apt-get": "apt"} {
		_, err := exec.LookPath(tool)
		fbstest.Need(t, err == nil, tool, "apt-get install "+pkg)
	}
	foreign, _ := exec.Command("dpkg", "--print-foreign-architectures").Output()
	fbstest.Need(t, hostarch.Native() == "aarch64" || slices.Contains(strings.Fields(string(foreign)), "arm64"),
		"Debian's arm64 package lists", "dpkg --add-architecture arm64 && apt-get update")
	err := hostarch.Check("aarch64")
	fbstest.Need(t, err == nil, "running aarch64 programs", "apt-get install qemu-user-static binfmt-support")

	cache := os.Getenv("FBS_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	dir := filepath.Join(t.TempDir(), Busybox.ArchRepoDir("aarch64"))
	var log strings.Builder
	if _, err := Repo(context.Background(), runner.New(buildlog.New(&log)), dir, cache, Busybox, "aarch64"); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "Packages", "*.rpm"))
	var names []string
	for _, f := range rpms {
		out, err := exec.Command("rpm", "-qp", "--qf", "%{NAME} %{ARCH}", f).Output()
		if err != nil {
			t.Fatalf("rpm -qp %s: %v", f, err)
		}
		name, arch, _ := strings.Cut(string(out), " ")
		if arch != "aarch64" {
			t.Errorf("%s is %s, not aarch64", name, arch)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{"busybox", "dracut", "fbs-demo-init", "fbs-demo-release", "filesystem", "grub2-efi-aa64-cdboot", "kernel"}
	if !slices.Equal(names, want) {
		t.Errorf("packages %q, want %q (no BIOS GRUB)", names, want)
	}

	grub, _ := filepath.Glob(filepath.Join(dir, "Packages", "grub2-efi-aa64-cdboot-*.aarch64.rpm"))
	if len(grub) != 1 {
		t.Fatalf("grub2-efi-aa64-cdboot: %q", grub)
	}
	unpacked := t.TempDir()
	unpack := exec.Command("sh", "-c", `rpm2archive - < "$1" | tar -xzf - -C "$2"`, "sh", grub[0], unpacked)
	if out, err := unpack.CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", grub[0], err, out)
	}
	f, err := pe.Open(filepath.Join(unpacked, "boot/efi/EFI/fedora/gcdaa64.efi"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, pe32plus := f.OptionalHeader.(*pe.OptionalHeader64); f.Machine != pe.IMAGE_FILE_MACHINE_ARM64 || !pe32plus {
		t.Errorf("gcdaa64.efi: machine %#x, PE32+ %v; want 0xaa64, PE32+", f.Machine, pe32plus)
	}
}
