// Package backend builds the command lines of Fedora's own image tools —
// lorax (boot ISO), livemedia-creator (live ISO) and pungi (DVD) — from a
// request, for hosts that have them. fbs's native builder stays the default.
package backend

import (
	"fmt"
	"path/filepath"
	"strings"

	"fbs/internal/spec"
)

// Names lists the backends, native first.
var Names = []string{"native", "lorax", "livemedia-creator", "pungi", "kiwi"}

// Tool is the program a backend runs, and the image type it builds.
func Tool(name string) (program, imageType string) {
	switch name {
	case "lorax":
		return "lorax", "boot"
	case "livemedia-creator":
		return "livemedia-creator", "live"
	case "pungi":
		return "pungi", "dvd"
	case "kiwi":
		return "kiwi-ng", "live"
	}
	return "", ""
}

// Package is the Fedora package that provides the backend's program.
func Package(name string) string {
	return map[string]string{"lorax": "lorax", "livemedia-creator": "lorax-lmc-novirt", "pungi": "pungi", "kiwi": "kiwi-cli"}[name]
}

// Run is one external build: its command line and where its ISO appears.
type Run struct {
	Args []string
	ISO  string // a glob for the ISO it writes
}

// Plan builds the command line for req. ks is the flattened kickstart (live
// and DVD; repos added there reach those tools), extra more repos for
// lorax, out a directory the tool may create, work its scratch space.
func Plan(name string, req *spec.Request, ks string, extra []string, out, work string) (Run, error) {
	program, typ := Tool(name)
	if program == "" {
		return Run{}, fmt.Errorf("unknown backend %q (one of %s)", name, strings.Join(Names, ", "))
	}
	if typ != req.Type {
		return Run{}, fmt.Errorf("the %s backend builds %s images, not %s", name, typ, req.Type)
	}
	switch name {
	case "lorax":
		return lorax(req.Boot, req.Release, req.Arch, extra, out, work), nil
	case "livemedia-creator":
		return lmc(req.Live, req.Arch, ks, out, work), nil
	case "pungi":
		return pungi(req.DVD, req.Arch, ks, out), nil
	}
	return Run{}, fmt.Errorf("the kiwi backend needs a kiwi image description; fbs does not turn kickstarts into one yet")
}

// lorax: lorax -p PRODUCT -v VERSION -r RELEASE -s REPO… OUTDIR (lorax(1)).
func lorax(b *spec.Boot, release, arch string, extra []string, out, work string) Run {
	args := []string{"lorax", "-p", b.Product, "-v", b.Version, "-r", release, "--volid", b.Label, "--buildarch", arch,
		"--nomacboot", "--workdir", filepath.Join(work, "lorax"), "--logfile", filepath.Join(work, "lorax.log")}
	for _, r := range []spec.RepoSource{b.Repo, orEmpty(b.Updates, b.UpdatesRepo), orEmpty(b.UpdatesTesting, b.TestingRepo)} {
		if r.URL != "" {
			args = append(args, "-s", r.URL)
		}
		if r.Mirror != "" {
			args = append(args, "--mirrorlist", r.Mirror)
		}
	}
	for _, r := range extra {
		args = append(args, "-s", r)
	}
	if b.Proxy != "" {
		args = append(args, "--proxy", b.Proxy)
	}
	for _, p := range b.Packages {
		args = append(args, "--installpkgs", p)
	}
	return Run{Args: append(args, out), ISO: filepath.Join(out, "images", "boot.iso")}
}

func orEmpty(on bool, r spec.RepoSource) spec.RepoSource {
	if on {
		return r
	}
	return spec.RepoSource{}
}

// lmc: livemedia-creator --make-iso --no-virt --ks KS … (livemedia-creator(1)).
func lmc(l *spec.Live, arch, ks, out, work string) Run {
	args := []string{"livemedia-creator", "--make-iso", "--no-virt", "--ks", ks, "--project", l.Product,
		"--releasever", l.Releasever, "--volid", l.Label, "--title", l.Title, "--iso-name", l.Label + ".iso",
		"--resultdir", out, "--tmp", work, "--logfile", filepath.Join(work, "livemedia.log")}
	if l.Compression != "" {
		args = append(args, "--compression", l.Compression)
	}
	if arch != "x86_64" {
		args = append(args, "--arch", arch)
	}
	return Run{Args: args, ISO: filepath.Join(out, l.Label+".iso")}
}

// pungi: the legacy pungi command line the 2012 service ran (pungi -c KS
// --name … --all-stages).
func pungi(d *spec.DVD, arch, ks, out string) Run {
	args := []string{"pungi", "-c", ks, "--name", d.Name, "--ver", d.Version, "--flavor", d.Flavor,
		"--destdir", out, "--cachedir", filepath.Join(out, "cache"), "--nosource", "--force", "--all-stages"}
	if d.BugURL != "" {
		args = append(args, "--bugurl", d.BugURL)
	}
	return Run{Args: args, ISO: filepath.Join(out, d.Version, d.Flavor, arch, "iso", "*.iso")}
}
