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
	a := stampOf(map[string]string{"k": "/c/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"})
	b := stampOf(map[string]string{"k": "/c/linux-image-6.1.0-57-amd64_6.1.193-1_amd64.deb"})
	if a == b || a != stampOf(map[string]string{"k": "/other/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"}) {
		t.Error("stamp does not follow the .deb files")
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
