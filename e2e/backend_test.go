//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExternalBackend runs --backend lorax against a stand-in lorax on
// PATH (Fedora's cannot be installed here): fbs passes the argv it plans,
// takes the ISO lorax writes, checksums and stages it.
func TestExternalBackend(t *testing.T) {
	// Not in /tmp: build commands get an empty /tmp of their own.
	bin, err := os.MkdirTemp(cache, "lorax-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	// Like lorax, it writes OUTDIR/images/boot.iso; OUTDIR is its last
	// argument. Its arguments go to the build log (it may write nothing
	// else on the host).
	write(t, filepath.Join(bin, "lorax"), `#!/bin/sh
echo "lorax args: $*"
for out; do :; done
mkdir -p "$out/images" && xorrisofs -quiet -o "$out/images/boot.iso" -V STANDIN /etc/hostname
`)
	os.Chmod(filepath.Join(bin, "lorax"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))

	staging := t.TempDir()
	conf := demoRequest(t, "boot", "zstd", "staging=file://"+staging)
	res := fbs(t, "build", conf, "--backend", "lorax", "--cache", t.TempDir(), "--work", t.TempDir())
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	logs, _ := filepath.Glob(filepath.Join(staging, "fbs-demo-1-x86_64-*.log"))
	if len(logs) != 1 {
		t.Fatalf("staged logs %v", logs)
	}
	args, _ := os.ReadFile(logs[0])
	mustContain(t, "lorax's arguments", string(args), "-p fbs-demo -v 1 -r 1 --volid fbs-demo-1-x86_64 ", "-s file://"+demoDir)
	isos, _ := filepath.Glob(filepath.Join(staging, "fbs-demo-1-x86_64-*.iso"))
	sums, _ := filepath.Glob(filepath.Join(staging, "fbs-demo-1-x86_64-*-CHECKSUM"))
	if len(isos) != 1 || len(sums) != 1 {
		t.Errorf("staged %v %v", isos, sums)
	}
}
