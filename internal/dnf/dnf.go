// Package dnf installs packages into an image root with the host's dnf,
// sharing one package cache across builds.
package dnf

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"fbs/internal/kickstart"
)

// Install is one dnf transaction into an image root.
type Install struct {
	Root     string
	CacheDir string // shared across builds; dnf keys it by repo
	ReposDir string // holds the .repo file of Repos (RepoFile)
	// Config is the dnf.conf dnf reads (Conf), not the image root's,
	// which it would read first, nor the host's.
	Config string
	// VarsDir holds dnf's variables: none but $releasever and $basearch,
	// not the image root's /etc/dnf/vars.
	VarsDir    string
	Repos      []kickstart.Repo
	Releasever string
	Arch       string
	Packages   []string // names, globs, @groups
	Exclude    []string
	// Options go before the command (Transaction.Options).
	Options []string
	// Macros are RPM macro lines for rpm as dnf runs it (Transaction.Macros);
	// they are not on the command line: the caller gives them to rpm.
	Macros []string
	Proxy  string
	// DownloadTo, when set, only downloads the transaction's packages
	// there (into an empty Root, that is the whole closure: a DVD's gather).
	DownloadTo string
}

// Args is the dnf command line for i.
func (i Install) Args() []string {
	args := []string{"dnf", "-y",
		"--installroot=" + i.Root,
		"--releasever=" + i.Releasever,
		"--forcearch=" + i.Arch,
		"--noplugins",
		"--config=" + i.Config,
		"--setopt=reposdir=" + i.ReposDir,
		"--setopt=varsdir=" + i.VarsDir,
		"--setopt=cachedir=" + i.CacheDir,
		"--setopt=keepcache=True",
		"--setopt=max_parallel_downloads=10",
		"--setopt=install_weak_deps=True",
	}
	if i.Proxy != "" {
		args = append(args, "--setopt=proxy="+i.Proxy)
	}
	for _, x := range i.Exclude {
		args = append(args, "--exclude="+x)
	}
	args = append(append(args, i.Options...), "install")
	if i.DownloadTo != "" {
		args = append(args, "--downloadonly", "--destdir="+i.DownloadTo)
	}
	return append(args, i.Packages...)
}

// RepoFile renders repos as a dnf .repo file, with $releasever and
// $basearch left for dnf to expand. A repo may name a base URL and a
// mirrorlist or metalink (dnf tries the mirrors first). Kickstart repos
// carry no GPG keys, so packages are not signature-checked (as
// livemedia-creator).
func RepoFile(repos []kickstart.Repo) string {
	var b strings.Builder
	for _, r := range repos {
		fmt.Fprintf(&b, "[%s]\nname=%s\n", r.Name, r.Name)
		for _, kv := range [][2]string{{"baseurl", r.BaseURL}, {"mirrorlist", r.Mirrorlist}, {"metalink", r.Metalink}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
			}
		}
		b.WriteString("enabled=1\ngpgcheck=0\nskip_if_unavailable=False\n")
		if r.Cost != 0 {
			fmt.Fprintf(&b, "cost=%d\n", r.Cost)
		}
		if len(r.Exclude) > 0 {
			fmt.Fprintf(&b, "excludepkgs=%s\n", strings.Join(r.Exclude, ","))
		}
		if len(r.Include) > 0 {
			fmt.Fprintf(&b, "includepkgs=%s\n", strings.Join(r.Include, ","))
		}
		if r.Proxy != "" {
			fmt.Fprintf(&b, "proxy=%s\n", r.Proxy)
		}
		if r.NoVerifySSL {
			b.WriteString("sslverify=0\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// DBPath is where the rpmdb of an image root is, as Fedora's rpm has it
// since Fedora 36 (/var/lib/rpm is a link to it). The host's rpm may put
// it elsewhere: Debian's in ~/.rpmdb.
const DBPath = "/usr/lib/sysimage/rpm"

// Conf is the dnf.conf fbs's dnf reads: the defaults Fedora's and
// Debian's dnf packages ship.
const Conf = "[main]\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=False\n"

// Progress reads dnf's output: "(3/12): name.rpm …" while downloading and
// "  Installing : name 3/12" while installing.
type Progress struct {
	Phase       string
	Done, Total int
}

var (
	downloadRe = regexp.MustCompile(`^\((\d+)/(\d+)\): `)
	installRe  = regexp.MustCompile(`^\s+(Installing|Running scriptlet|Verifying)\s*:.*\s(\d+)/(\d+)\s*$`)
)

// ParseProgress returns the progress a dnf output line tells, if any.
func ParseProgress(line string) (Progress, bool) {
	if m := downloadRe.FindStringSubmatch(line); m != nil {
		return progress("downloading", m[1], m[2]), true
	}
	if m := installRe.FindStringSubmatch(line); m != nil && m[1] != "Running scriptlet" {
		return progress(strings.ToLower(m[1]), m[2], m[3]), true
	}
	return Progress{}, false
}

func progress(phase, done, total string) Progress {
	d, _ := strconv.Atoi(done)
	t, _ := strconv.Atoi(total)
	return Progress{Phase: phase, Done: d, Total: t}
}
