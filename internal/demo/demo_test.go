package demo

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"fbs/internal/kickstart"
	"fbs/internal/spec"
)

func TestClosure(t *testing.T) {
	deps := map[string][]string{
		"kernel/fs/isofs/isofs.ko":          {"kernel/drivers/cdrom/cdrom.ko"},
		"kernel/drivers/scsi/sr_mod.ko":     {"kernel/drivers/scsi/scsi_mod.ko", "kernel/drivers/cdrom/cdrom.ko"},
		"kernel/drivers/scsi/scsi_mod.ko":   nil,
		"kernel/drivers/cdrom/cdrom.ko":     nil,
		"kernel/drivers/virtio/virtio-x.ko": nil,
	}
	got, err := closure(deps, []string{"isofs", "sr_mod", "virtio_x"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := []string{"kernel/drivers/cdrom/cdrom.ko", "kernel/drivers/scsi/scsi_mod.ko", "kernel/drivers/scsi/sr_mod.ko",
		"kernel/drivers/virtio/virtio-x.ko", "kernel/fs/isofs/isofs.ko"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("closure %q", got)
	}
	if _, err := closure(deps, []string{"nosuch"}); err == nil {
		t.Error("a missing module passed")
	}
}

func TestWriteFileList(t *testing.T) {
	tree := t.TempDir()
	os.MkdirAll(filepath.Join(tree, "etc"), 0o755)
	os.MkdirAll(filepath.Join(tree, "usr/lib/dracut"), 0o755)
	os.WriteFile(filepath.Join(tree, "usr/lib/dracut/init"), nil, 0o755)
	os.WriteFile(filepath.Join(tree, "etc/odd name"), nil, 0o644)
	p := &pkg{Tree: tree, FileList: filepath.Join(t.TempDir(), "files")}
	if err := writeFileList(p); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p.FileList)
	want := "\"/etc/odd name\"\n%dir /usr/lib/dracut\n/usr/lib/dracut/init\n"
	if string(got) != want {
		t.Errorf("file list:\n%s\nwant:\n%s", got, want)
	}
}

func TestStampChangesWithInputs(t *testing.T) {
	a := stampOf(Busybox, "x86_64", map[string]string{"k": "/c/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"})
	b := stampOf(Busybox, "x86_64", map[string]string{"k": "/c/linux-image-6.1.0-57-amd64_6.1.193-1_amd64.deb"})
	if a == b || a != stampOf(Busybox, "x86_64", map[string]string{"k": "/other/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"}) {
		t.Error("stamp does not follow the .deb files")
	}
	if a == stampOf(Busybox, "aarch64", map[string]string{"k": "/c/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"}) {
		t.Error("stamp does not follow the arch")
	}
}

func TestWriteRequest(t *testing.T) {
	dir := t.TempDir()
	conf, err := WriteRequest(dir, "/var/cache/fbs/demo-repo", "live", "zstd")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(conf)
	ks, _ := os.ReadFile(filepath.Join(dir, "demo.ks"))
	if !strings.Contains(string(c), "compression=zstd") || !strings.Contains(string(ks), "--baseurl=file:///var/cache/fbs/demo-repo") {
		t.Errorf("request:\n%s\nkickstart:\n%s", c, ks)
	}
	req, err := spec.Load(conf)
	if err != nil || req.Live.Label != "FBS-Demo-Live" {
		t.Fatalf("the demo request does not parse: %v", err)
	}
	lines, err := kickstart.Flatten(context.Background(), &kickstart.FileLoader{Dir: req.Dir}, req.Live.Config)
	if err == nil {
		_, err = kickstart.Parse(lines)
	}
	if err != nil {
		t.Errorf("the demo kickstart does not parse: %v", err)
	}
	boot, _ := WriteRequest(dir, "/var/cache/fbs/demo-repo", "boot", "zstd")
	if req, err := spec.Load(boot); err != nil || req.Boot.Label != "fbs-demo-1-x86_64" || req.Boot.Repo.URL != "file:///var/cache/fbs/demo-repo" {
		t.Errorf("the demo boot request: %+v %v", req, err)
	}
}

func TestParseControl(t *testing.T) {
	tests := map[string]struct {
		text string
		want control
	}{
		"alternatives, versions and arch qualifiers": {
			text: "Version: 1:4.13+dfsg1-1\nPre-Depends: libc6 (>= 2.34), libpam-modules\nDepends: default-dbus-system-bus | dbus-system-bus, python3:any (>= 3.9)\nProvides: systemd-sysusers (= 252), systemd-tmpfiles\nDescription: system and service manager\n systemd is a system and service manager for Linux.\n",
			want: control{Version: "1:4.13+dfsg1-1", Summary: "system and service manager",
				Depends:  [][]string{{"libc6"}, {"libpam-modules"}, {"default-dbus-system-bus", "dbus-system-bus"}, {"python3"}},
				Provides: []string{"systemd-sysusers", "systemd-tmpfiles"}},
		},
		"a percent sign in the summary": {
			text: "Version: 1.0-1\nDescription: 100% shell\n",
			want: control{Version: "1.0-1", Summary: "100%% shell"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := parseControl(tt.text); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseAptInst(t *testing.T) {
	out := "NOTE: This is only a simulation!\nInst libc6 (2.36-9+deb12u14 Debian:12.13/stable [amd64])\n" +
		"Inst login (1:4.13+dfsg1-1+deb12u2 Debian:12.13/stable [amd64])\nConf libc6 (2.36-9+deb12u14 Debian:12.13/stable [amd64])\n" +
		"Inst tzdata (2025b-0+deb12u2 Debian:12.13/stable [all])\n"
	want := []debRef{{"libc6", "2.36-9+deb12u14", "amd64"}, {"login", "1:4.13+dfsg1-1+deb12u2", "amd64"}, {"tzdata", "2025b-0+deb12u2", "all"}}
	got := parseAptInst(out)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if f := got[1].File(); f != "login_1%3a4.13+dfsg1-1+deb12u2_amd64.deb" {
		t.Errorf("file name %s", f)
	}
}

func TestUsrMergeAndDedupe(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for path, text := range map[string]string{
		"bin/bash": "bash", "usr/bin/ls": "ls", "lib/x86_64-linux-gnu/libc.so.6": "libc",
		"usr/lib/x86_64-linux-gnu/libc.so.6": "libc from /usr", "lib64/ld-linux-x86-64.so.2": "ld",
	} {
		if err := writeFile(filepath.Join(a, path), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(filepath.Join(b, "usr/bin/ls"), "another ls", 0o755)
	writeFile(filepath.Join(b, "usr/bin/dir"), "dir", 0o755)
	if err := usrMerge(a); err != nil {
		t.Fatal(err)
	}
	if err := dedupe([]string{a, b}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		a + "/usr/bin/bash": "bash", a + "/usr/lib64/ld-linux-x86-64.so.2": "ld",
		a + "/usr/lib/x86_64-linux-gnu/libc.so.6": "libc from /usr", a + "/usr/bin/ls": "ls", b + "/usr/bin/dir": "dir",
		a + "/bin/bash": "", b + "/usr/bin/ls": "",
	}
	for path, want := range tests {
		got, err := os.ReadFile(path)
		if want == "" && err == nil || want != "" && string(got) != want {
			t.Errorf("%s: %q %v, want %q", path, got, err, want)
		}
	}
}
