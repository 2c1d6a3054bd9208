package hostarch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// foreign is an arch of Media this host does not run natively.
func foreign() string {
	if Native() == "aarch64" {
		return "x86_64"
	}
	return "aarch64"
}

func TestCheckFakeBinfmt(t *testing.T) {
	arch := foreign()
	interp := filepath.Join(t.TempDir(), "qemu-"+arch+"-static")
	if err := os.WriteFile(interp, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	good := "enabled\ninterpreter " + interp + "\nflags: PF\noffset 0\nmagic 7f454c46\nmask ffffffff\n"
	tests := map[string]struct {
		files map[string]string // nil: no binfmt_misc at all
		want  string            // a part of the error; "" for nil
	}{
		"not mounted":  {want: "mount -t binfmt_misc"},
		"disabled fs":  {files: map[string]string{"status": "disabled\n"}, want: "binfmt_misc is disabled"},
		"no entry":     {files: map[string]string{"status": "enabled\n"}, want: "apt-get install qemu-user-static binfmt-support"},
		"disabled":     {files: map[string]string{"status": "enabled\n", "qemu-" + arch: strings.Replace(good, "enabled", "disabled", 1)}, want: "update-binfmts --enable qemu-" + arch},
		"no F flag":    {files: map[string]string{"status": "enabled\n", "qemu-" + arch: strings.Replace(good, "flags: PF", "flags: P", 1)}, want: "without F"},
		"no flags":     {files: map[string]string{"status": "enabled\n", "qemu-" + arch: strings.Replace(good, "flags: PF", "flags: ", 1)}, want: "without F"},
		"interp gone":  {files: map[string]string{"status": "enabled\n", "qemu-" + arch: strings.Replace(good, interp, interp+".gone", 1)}, want: "interpreter " + interp + ".gone"},
		"good":         {files: map[string]string{"status": "enabled\n", "qemu-" + arch: good}},
		"other arches": {files: map[string]string{"status": "enabled\n", "qemu-riscv64": good}, want: "no binfmt_misc entry qemu-" + arch},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "binfmt_misc")
			if tc.files != nil {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for f, s := range tc.files {
					if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Setenv("FBS_BINFMT_MISC", dir)

			err := Check(arch)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check(%s) = %v, want nil", arch, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check(%s) = %v, want an error with %q", arch, err, tc.want)
			}
			if err := Check(Native()); err != nil {
				t.Errorf("Check(native %s) = %v", Native(), err)
			}
			wantBuildable := 1
			if tc.want == "" {
				wantBuildable = 2
			}
			if got := Buildable(); len(got) != wantBuildable {
				t.Errorf("Buildable() = %v, want %d arches", got, wantBuildable)
			}
		})
	}
}

// TestCheckHost checks this host's binfmt_misc for real; CI installs
// qemu-user-static, so there every arch of Media must be buildable.
func TestCheckHost(t *testing.T) {
	for _, arch := range Media {
		err := Check(arch)
		t.Logf("Check(%s) on %s: %v", arch, Native(), err)
		if err != nil && os.Getenv("CI") == "true" {
			t.Errorf("in CI every arch must be buildable: %v", err)
		}
	}
}
