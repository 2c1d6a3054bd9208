package demo

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBulkLayout: what a .deb puts outside /usr goes beneath it, merged
// with what is there, and the kernel's modules go where no boot looks.
func TestBulkLayout(t *testing.T) {
	tests := map[string]struct {
		files, want []string
	}{
		"kernel": {
			files: []string{"boot/vmlinuz-6.1", "lib/modules/6.1/kernel/fs/erofs.ko", "usr/share/doc/linux-image/copyright"},
			want:  []string{"usr/lib/fbs-bulk/modules/6.1/kernel/fs/erofs.ko", "usr/share/doc/linux-image/copyright"},
		},
		"firmware beside usr/lib": {
			files: []string{"lib/firmware/a.bin", "usr/lib/firmware/b.bin", "usr/lib/x86_64-linux-gnu/libz.so"},
			want:  []string{"usr/lib/firmware/a.bin", "usr/lib/firmware/b.bin", "usr/lib/x86_64-linux-gnu/libz.so"},
		},
		"bin and sbin": {
			files: []string{"bin/tool", "sbin/daemon", "etc/tool.conf"},
			want:  []string{"etc/tool.conf", "usr/bin/tool", "usr/sbin/daemon"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tree := t.TempDir()
			for _, f := range tc.files {
				if err := writeFile(filepath.Join(tree, f), f, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := bulkLayout(tree); err != nil {
				t.Fatal(err)
			}
			var got []string
			filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					got = append(got, strings.TrimPrefix(p, tree+"/"))
				}
				return err
			})
			if slices.Sort(got); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, top := range []string{"lib", "bin", "sbin", "boot"} {
				if _, err := os.Lstat(filepath.Join(tree, top)); err == nil {
					t.Errorf("/%s is left", top)
				}
			}
		})
	}
}
