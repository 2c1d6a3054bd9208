package bootcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"fbs/internal/fbstest"
)

// TestISOArch makes ISOs with xorriso, as builds do (Rock Ridge and
// Joliet names beside the primary ones), and reads their arch back.
func TestISOArch(t *testing.T) {
	xorriso, err := exec.LookPath("xorrisofs")
	fbstest.Need(t, err == nil, "xorrisofs", "apt-get install xorriso")
	tests := map[string]struct {
		files []string
		want  string
	}{
		"aarch64":   {[]string{"EFI/BOOT/BOOTAA64.EFI", "EFI/BOOT/grubaa64.efi", "images/efiboot.img"}, "aarch64"},
		"x86_64":    {[]string{"EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/BOOTIA32.EFI", "isolinux/isolinux.bin"}, "x86_64"},
		"bios only": {[]string{"boot/grub2/i386-pc/eltorito.img"}, ""},
		"no EFI":    {[]string{"EFI/fedora/shimx64.efi"}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tree := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(tree, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			iso := filepath.Join(t.TempDir(), "x.iso")
			if out, err := exec.Command(xorriso, "-quiet", "-R", "-J", "-V", "X", "-o", iso, tree).CombinedOutput(); err != nil {
				t.Fatalf("xorrisofs: %v\n%s", err, out)
			}
			got, err := ISOArch(iso)
			if err != nil || got != tc.want {
				t.Errorf("ISOArch = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := ISOArch("isoarch_test.go"); err == nil {
		t.Error("a Go file read as an ISO")
	}
}
