package demo

import (
	"fmt"
	"os"
	"path/filepath"
)

// Expect is the console line that shows a demo live image booted into the
// root its kickstart's %post changed.
const Expect = "Welcome to the fbs demo live image."

// ExpectInstaller shows that a demo boot.iso reached its stage2's init.
const ExpectInstaller = "fbs-demo: init reached"

// ExpectFacts is the last line the dracut chain's demo kickstart has its
// unit print on the console, after what the kickstart set up.
const ExpectFacts = "fbs-facts: done"

// WriteRequest writes the busybox chain's requests (see WriteChainRequest),
// which most tests build.
func WriteRequest(dir, repoDir, typ, compression string) (string, error) {
	return WriteChainRequest(dir, Busybox, repoDir, typ, compression)
}

// WriteChainRequest writes a chain's x86_64 requests (see WriteArchRequest).
func WriteChainRequest(dir string, chain Chain, repoDir, typ, compression string) (string, error) {
	return WriteArchRequest(dir, chain, "x86_64", repoDir, typ, compression)
}

// WriteArchRequest writes the demo's requests for an arch into dir, in the
// seed's format: demo.conf for the live image with its kickstart demo.ks
// (the chain's), boot.conf for the boot ISO, and dvd.conf with dvd.ks for
// the DVD, all using the repo in repoDir, with the kernel's console on the
// arch's first serial port. It returns the path of the request for typ
// (live, boot or dvd).
func WriteArchRequest(dir string, chain Chain, archName, repoDir, typ, compression string) (string, error) {
	if typ != "live" && typ != "boot" && typ != "dvd" {
		return "", fmt.Errorf("the demo has live, boot and dvd requests, not %q", typ)
	}
	a, err := archNamed(archName)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data := map[string]string{"RepoURL": "file://" + repoDir, "Compression": compression, "Arch": a.rpm, "Console": a.console}
	for _, name := range []string{"demo.ks", "demo.conf", "boot.conf", "dvd.conf", "dvd.ks"} {
		src := "files/" + name
		if name == "demo.ks" && chain == Dracut {
			src = "files/dracut-chain/demo.ks"
		}
		text, err := renderEmbedded(src, data)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o644); err != nil {
			return "", err
		}
	}
	if typ == "live" {
		return filepath.Join(dir, "demo.conf"), nil
	}
	return filepath.Join(dir, typ+".conf"), nil
}
