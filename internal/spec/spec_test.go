package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSeedExamples(t *testing.T) {
	tests := map[string]func(t *testing.T, r *Request){
		"boot.conf": func(t *testing.T, r *Request) {
			if r.Type != "boot" || r.Release != "40" || r.Boot == nil {
				t.Fatalf("got %+v", r)
			}
			if r.Boot.Label != "fedora-40-x86_64" || r.Boot.Version != "40" {
				t.Errorf("label %q version %q", r.Boot.Label, r.Boot.Version)
			}
			if !r.Boot.Updates || r.Boot.UpdatesTesting {
				t.Errorf("updates=%v updates-testing=%v", r.Boot.Updates, r.Boot.UpdatesTesting)
			}
			if !strings.HasPrefix(r.Boot.Repo.Mirror, "https://mirrors.fedoraproject.org/metalink?repo=fedora-40") {
				t.Errorf("release mirror %q", r.Boot.Repo.Mirror)
			}
			if r.Boot.UpdatesRepo.URL == "" {
				t.Error("updates url lost")
			}
			if !reflect.DeepEqual(r.NVR, []string{"wget2-2.1.0-9.fc40"}) {
				t.Errorf("nvr %q", r.NVR)
			}
		},
		"dvd.conf": func(t *testing.T, r *Request) {
			if r.DVD == nil || r.DVD.Flavor != "Everything" || r.DVD.Config != "dvd.ks" || !r.DVD.NoSource || !r.DVD.Force {
				t.Fatalf("got %+v", r.DVD)
			}
			if r.DVD.Label != "fedora-Everything-dvd-x86_64-40" {
				t.Errorf("volume id %q", r.DVD.Label)
			}
			if len(r.Ignored) != 7 { // nosource, sourceisos, force, stage; destdir, cachedir, workdir
				t.Errorf("ignored keys %q", r.Ignored)
			}
		},
		"live.conf": func(t *testing.T, r *Request) {
			want := &Live{Label: "Fedora-Mini-Live", Title: "Mini", Product: "fedora", Releasever: "rawhide",
				Config: "fedora-live-mini.ks", TmpDir: "/var/tmp/fbs/live-work", CacheDir: "/var/cache/fbs",
				LogFile: "/var/tmp/fbs/live.log", Compression: "xz", RootFS: "squashfs"}
			if !reflect.DeepEqual(r.Live, want) {
				t.Errorf("live = %+v\nwant  %+v", r.Live, want)
			}
			if r.Staging != "file:///srv/fbs/staging" || !reflect.DeepEqual(r.Email, []string{"qa@example.org"}) {
				t.Errorf("staging %q email %q", r.Staging, r.Email)
			}
			wantIgnored := []string{
				"live.tmpdir=/var/tmp/fbs/live-work: not applicable: fbs builds in its own work dir, with its own cache and log",
				"live.cachedir=/var/cache/fbs: not applicable: fbs builds in its own work dir, with its own cache and log",
				"live.logfile=/var/tmp/fbs/live.log: not applicable: fbs builds in its own work dir, with its own cache and log",
			}
			if !reflect.DeepEqual(r.Ignored, wantIgnored) {
				t.Errorf("ignored %q\nwant %q", r.Ignored, wantIgnored)
			}
		},
		"live.json": func(t *testing.T, r *Request) {
			if r.Live.Label != "Fedora-Mini-Live" || r.Live.Compression != "zstd" || r.Live.Releasever != "rawhide" {
				t.Errorf("live = %+v", r.Live)
			}
		},
	}
	for name, check := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Load(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !filepath.IsAbs(r.Dir) {
				t.Errorf("Dir %q is not absolute", r.Dir)
			}
			check(t, r)
		})
	}
}

func TestBadInput(t *testing.T) {
	const live = "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=x.ks\n"
	tests := map[string]struct {
		in   string
		want string // the whole error message
	}{
		"unknown type":            {"[DEFAULT]\ntype=cloud\narch=x86_64\nrelease=40\n", "r.conf:2: type: unknown image type \"cloud\" (boot, dvd or live)"},
		"no type":                 {"[DEFAULT]\narch=x86_64\n", "r.conf:1: type: missing in [DEFAULT] (boot, dvd or live)"},
		"no DEFAULT":              {"[live]\nconfig=x\n", "r.conf:1: no [DEFAULT] section (it holds type, arch, release, staging and email)"},
		"missing section":         {"[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n", "r.conf:2: type=live needs a [live] section"},
		"unknown section":         {live + "[extra]\nx=1\n", "r.conf:7: unknown section [extra] (expected [DEFAULT] and one of [boot], [dvd], [live])"},
		"unknown key":             {live + "colour=blue\n", "r.conf:7: colour: unknown key in [live] (known: type, arch, release, staging, email, webhook, boottest, label, title, product, releasever, nvr, bid, tmpdir, cachedir, logfile, config, compression, rootfs)"},
		"misspelt key":            {live + "lable=x\n", "r.conf:7: lable: unknown key in [live]; did you mean label? (known: type, arch, release, staging, email, webhook, boottest, label, title, product, releasever, nvr, bid, tmpdir, cachedir, logfile, config, compression, rootfs)"},
		"bad boottest":            {strings.Replace(live, "[live]", "boottest=bios,coreboot\n[live]", 1), `r.conf:5: boottest: unknown firmware "coreboot" (bios, uefi)`},
		"key twice":               {live + "config=y.ks\n", "r.conf:7: config: key \"config\" set twice in [live]"},
		"no equals":               {live + "justtext\n", "r.conf:7: expected key=value, got \"justtext\""},
		"bad arch":                {strings.Replace(live, "x86_64", "m68k", 1), "r.conf:3: arch: unknown architecture \"m68k\" (one of x86_64, i686, aarch64, ppc64le, s390x)"},
		"ppc64le":                 {strings.Replace(live, "x86_64", "ppc64le", 1), "r.conf:3: arch: fbs makes x86_64 and aarch64 media, not ppc64le: ppc64le media need GRUB for Open Firmware (grub2-ppc64le's powerpc-ieee1275 image with a CHRP ppc/bootinfo.txt, as lorax's ppc64le.tmpl lays them out) and a boot test on qemu-system-ppc64 -M pseries, which fbs has neither of"},
		"s390x":                   {strings.Replace(live, "x86_64", "s390x", 1), "r.conf:3: arch: fbs makes x86_64 and aarch64 media, not s390x: s390x media need an s390 boot image (images/cdboot.img from mk-s390image, with generic.prm and generic.ins, as lorax's s390.tmpl lays them out) and a boot test on qemu-system-s390x, which fbs has neither of"},
		"i686":                    {strings.Replace(live, "x86_64", "i686", 1), "r.conf:3: arch: fbs makes x86_64 and aarch64 media, not i686: Fedora has made no i686 media since release 31 (i686 packages live on only for x86_64's multilib)"},
		"aarch64 BIOS boot test":  {strings.Replace(strings.Replace(live, "x86_64", "aarch64", 1), "[live]", "boottest=uefi,bios\n[live]", 1), "r.conf:5: boottest: aarch64 media boot with UEFI alone: ask for uefi"},
		"bad release":             {strings.Replace(live, "=40", "=forty", 1), "r.conf:4: release: \"forty\" is not a Fedora release (a number or rawhide)"},
		"no kickstart":            {strings.Replace(live, "config=x.ks", "label=x", 1), "r.conf:5: config: a live image needs a kickstart (config=PATH or URL)"},
		"bad compression":         {live + "compression=brotli\n", "r.conf:7: compression: unknown compressor \"brotli\" (one of xz, zstd, gzip, lz4, lzo, fast)"},
		"bad rootfs":              {live + "rootfs=ext4\n", "r.conf:7: rootfs: unknown root image filesystem \"ext4\" (squashfs or erofs)"},
		"erofs without zstd":      {live + "rootfs=erofs\ncompression=zstd\n", "r.conf:8: compression: rootfs=erofs: unknown EROFS compressor \"zstd\" (one of lz4hc, lz4, lzma, xz, fast)"},
		"bad bid":                 {live + "bid=12;abc\n", "r.conf:7: bid: build id \"abc\" is not a positive number"},
		"bad email":               {strings.Replace(live, "release=40", "release=40\nemail=not-an-address", 1), "r.conf:5: email: \"not-an-address\" is not an email address"},
		"bad webhook":             {strings.Replace(live, "release=40", "release=40\nwebhook=ftp://x/y", 1), "r.conf:5: webhook: \"ftp://x/y\" is not an http or https URL"},
		"bad staging":             {strings.Replace(live, "release=40", "release=40\nstaging=gopher://x/y", 1), "r.conf:5: staging: \"gopher://x/y\": scheme \"gopher\" not supported (file, ftp, ftps or s3)"},
		"relative staging":        {strings.Replace(live, "release=40", "release=40\nstaging=file://srv/x", 1), "r.conf:5: staging: \"file://srv/x\": a file URL needs an absolute path, as file:///srv/staging"},
		"bad ks scheme":           {strings.Replace(live, "x.ks", "gopher://h/x.ks", 1), "r.conf:6: config: kickstart URL \"gopher://h/x.ks\": scheme \"gopher\" not supported (http, https, ftp or a path)"},
		"boot without repo":       {"[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\n[boot]\nproduct=fedora\n", "r.conf:5: 40_url: the release repo needs 40_url or 40_mirror"},
		"boot updates repo":       {"[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\n[boot]\n40_url=http://x/\nupdates=1\n", "r.conf:7: updates: updates=1 needs 40-updates_url or 40-updates_mirror"},
		"boot wrong release repo": {"[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\n[boot]\n41_url=http://x/\n", "r.conf:6: 41_url: repo key for release \"41\", but the request is for release \"40\""},
		"bad bool":                {"[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\n[boot]\n40_url=http://x/\nupdates=maybe\n", "r.conf:7: updates: \"maybe\" is not a boolean (use 0 or 1)"},
		"json unknown field":      {`{"type":"live","arch":"x86_64","release":"40","live":{"config":"x.ks","colour":"blue"}}`, "r.conf:1: colour: unknown field"},
		"json syntax":             {"{\n\"type\": \"live\",\n}", "r.conf:3: invalid JSON: invalid character '}' looking for beginning of object key string"},
		"json wrong type":         {`{"type":"live","arch":"x86_64","release":40}`, "r.conf:1: release: expected string, got JSON number"},
		"json no section":         {`{"type":"live","arch":"x86_64","release":"40"}`, "r.conf: live: type=live needs its \"live\" section"},
		"json trailing":           {`{"type":"live","arch":"x86_64","release":"40","live":{"config":"x"}} {}`, "r.conf:1: data after the request object"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("r.conf", []byte(tc.in))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *spec.Error", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestSeedListSeparators(t *testing.T) {
	for _, in := range []string{"a-1-1;b-2-2;", "a-1-1:b-2-2", "a-1-1, b-2-2", " a-1-1  b-2-2 ", "a-1-1\r\nb-2-2\r\n"} {
		if got := SplitList(in); !reflect.DeepEqual(got, []string{"a-1-1", "b-2-2"}) {
			t.Errorf("SplitList(%q) = %q", in, got)
		}
	}
}

func TestDVDVolumeID(t *testing.T) {
	// pungi takes the first format that fits in 32 characters.
	tests := map[string]string{
		"fedora/Everything":       "fedora-Everything-dvd-x86_64-40",
		"fedora/Workstation2":     "fedora-Workstation2-x86_64-40",
		"fedora-remix/Scientific": "fedora-remix-dvd-x86_64-40",
	}
	for in, want := range tests {
		name, flavor, _ := strings.Cut(in, "/")
		r := &Request{Type: "dvd", Arch: "x86_64", Release: "40", DVD: &DVD{Name: name, Flavor: flavor, Config: "x.ks"}}
		if err := r.Validate(); err != nil || r.DVD.Label != want {
			t.Errorf("%s: volume id %q (%v), want %q", in, r.DVD.Label, err, want)
		}
	}
}

func TestVolumeID(t *testing.T) {
	tests := map[string]string{
		"Fedora-Mini-Live":      "Fedora-Mini-Live",
		"Fedora Mini Live":      "Fedora-Mini-Live",
		"a/b\\c:d.e":            "a-b-c-d-e",
		"../../etc/passwd":      "------etc-passwd",
		strings.Repeat("x", 40): strings.Repeat("x", 32),
		"Ünïcode":               "--n--code",
	}
	for in, want := range tests {
		if got := VolumeID(in); got != want {
			t.Errorf("VolumeID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.conf"))
	if err == nil || !strings.Contains(err.Error(), "nope.conf: cannot read the request: no such file or directory") {
		t.Errorf("error %v", err)
	}
	if _, err := os.Stat("testdata"); err != nil {
		t.Fatal(err)
	}
}
