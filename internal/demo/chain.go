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

// RepoDir is the name of the chain's repo in a cache dir.
func (c Chain) RepoDir() string {
	if c == Dracut {
		return "demo-repo-dracut"
	}
	return "demo-repo"
}

// debs are the Debian packages taken as they are, besides the kernel;
// the dracut chain adds the closure of dracutRoots.
func (c Chain) debs() []string {
	if c == Dracut {
		return []string{"grub-pc-bin", "grub-efi-amd64-bin"}
	}
	return []string{"busybox-static", "grub-pc-bin", "grub-efi-amd64-bin"}
}
