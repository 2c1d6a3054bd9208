package demo

import "fmt"

// Chain is how the demo distro's live image boots.
type Chain string

const (
	// Busybox: a busybox script in dracut's place writes an initramfs that
	// mounts the squashfs under an overlay and starts a busybox init that
	// reports and powers off. Small and quick: most tests use it.
	Busybox Chain = "busybox"
	// Dracut: Debian's dracut with dmsquash-live, systemd and udev, as
	// every Fedora live image boots.
	Dracut Chain = "dracut"
)

// ParseChain reads a --chain value.
func ParseChain(s string) (Chain, error) {
	switch c := Chain(s); c {
	case Busybox, Dracut:
		return c, nil
	}
	return "", fmt.Errorf("the demo distro boots through chain busybox or dracut, not %q", s)
}

// RepoDir is the name of the chain's x86_64 repo in a cache dir.
func (c Chain) RepoDir() string {
	return c.ArchRepoDir("x86_64")
}

// ArchRepoDir is the name of the chain's repo for an arch in a cache dir:
// each arch has its own, x86_64's without a suffix.
func (c Chain) ArchRepoDir(arch string) string {
	name := "demo-repo"
	if c == Dracut {
		name += "-dracut"
	}
	return name + archSuffix(arch)
}

// debs are the Debian packages taken as they are, besides the kernel;
// the dracut chain adds the closure of dracutRoots.
func (c Chain) debs(a arch) []string {
	if c == Dracut {
		return a.grubDebs()
	}
	return append([]string{"busybox-static"}, a.grubDebs()...)
}
