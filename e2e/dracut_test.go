//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fbs/internal/demo"
)

// dracutRequest writes the dracut chain's demo request of a type, and
// returns it with its kickstart's path.
func dracutRequest(t *testing.T, typ string) (conf, ks string) {
	t.Helper()
	conf, err := demo.WriteChainRequest(t.TempDir(), demo.Dracut, dracutDir, typ, "zstd")
	if err != nil {
		t.Fatal(err)
	}
	return conf, filepath.Join(filepath.Dir(conf), "demo.ks")
}

// workLog is the build log a build without staging left in its work dir.
func workLog(t *testing.T, work string) string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(work, "*", "build.log"))
	if len(logs) != 1 {
		t.Fatalf("build logs in %s: %v", work, logs)
	}
	data, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDracutLiveISO_QEMU builds the dracut chain's live ISO, as Fedora's
// boot: Debian's dracut, run in the root with livemedia-creator's
// arguments, writes a systemd initramfs whose dmsquash-live mounts
// LiveOS/squashfs.img under an overlay, after the media check, and
// systemd starts. The kickstart's %post unit reports, from inside the
// booted system, what the kickstart set up; each firmware boots once.
func TestDracutLiveISO_QEMU(t *testing.T) {
	conf, ksPath := dracutRequest(t, "live")
	ks, _ := os.ReadFile(ksPath)
	write(t, ksPath, strings.NewReplacer(
		"lang en_US.UTF-8", "lang de_DE.UTF-8",
		"timezone UTC --utc", "timezone Europe/Berlin --utc\nservices --enabled=systemd-networkd\nuser --name=fbs-user --gecos=\"fbs demo user\"",
		"network --hostname=fbs-demo-live", "network --hostname=fbs-live.example.org",
		"rootpw --lock", "rootpw --plaintext "+rootPassword,
		`--append="console=ttyS0,115200"`, `--append="console=ttyS0,115200 rd.live.check"`,
	).Replace(string(ks)))
	work := t.TempDir()
	// The boot waits for the facts' last line, which the console may print
	// before or after getty's banner: a boot test stops at the line it waits for.
	res := fbs(t, "build", conf, "--cache", cache, "--work", work, "--boot-test=bios,uefi", "--expect", demo.ExpectFacts)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	log := workLog(t, work)
	if strings.Contains(log, rootPassword) {
		t.Error("the build log holds the root password")
	}
	// dracut is Debian's, with dmsquash-live; the system steps ran for real.
	mustContain(t, "build log", log, "$ dracut --nomdadmconf --nolvmconf --xz --add 'livenet dmsquash-live",
		"Including module: dmsquash-live", "Including module: systemd",
		"$ systemctl enable systemd-networkd", "$ useradd -U -m -c 'fbs demo user' fbs-user", "$ chpasswd",
		"system: lang: wrote /etc/locale.conf", "network --hostname: wrote /etc/hostname")
	mustNotContain(t, "build log", log, "not applied")

	// systemd drops a unit of an ordering cycle, which one it likes.
	mustNotContain(t, "console", log, "Ordering cycle")
	// What the booted system says of itself, once per firmware.
	facts := []string{
		"The media check is complete, the result is: PASS",
		"fbs-demo: init reached (6.",
		"fbs-facts: root overlay LiveOS_rootfs rw,",
		"lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork",
		"fbs-facts: rootfsbase squashfs /dev/loop",
		"fbs-facts: pid 1 /usr/lib/systemd/systemd, multi-user.target active",
		"root=live:CDLABEL=FBS-Demo-Live console=ttyS0,115200 rd.live.check rd.live.image",
		"fbs-facts: LANG de_DE.UTF-8",
		"fbs-facts: timezone ../usr/share/zoneinfo/Europe/Berlin CE",
		"fbs-facts: hostname fbs-live.example.org",
		"fbs-facts: systemd-networkd enabled active",
		"fbs-facts: root password P",
		"fbs-facts: user uid=1000(fbs-user) gid=1000(fbs-user)",
		"console: " + demo.ExpectFacts, // the log also quotes the line a boot test passed on
	}
	for _, f := range facts {
		if n := strings.Count(log, f); n != 2 {
			t.Errorf("the console says %q %d times, want once per firmware", f, n)
		}
	}
	if n := len(regexp.MustCompile(`(?m)fbs-facts: failed units:\s*$`).FindAllString(log, -1)); n != 2 {
		t.Errorf("%d boots without failed units, want 2", n)
	}
	for _, boot := range []string{"bios", "uefi"} {
		if !regexp.MustCompile(`(?m)^  boot-` + boot + ` +\d+\.\ds  "` + regexp.QuoteMeta(demo.ExpectFacts)).MatchString(res.out) {
			t.Errorf("no passed %s boot in the output", boot)
		}
	}
}

// TestDracutBootISO_QEMU builds the dracut chain's boot ISO: the demo's
// stand-in for anaconda's dracut module hands inst.stage2's
// images/install.img to dmsquash-live, and systemd starts from it.
func TestDracutBootISO_QEMU(t *testing.T) {
	conf, _ := dracutRequest(t, "boot")
	work := t.TempDir()
	res := fbs(t, "build", conf, "--cache", cache, "--work", work, "--boot-test=uefi", "--expect", demo.ExpectInstaller)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "build log", workLog(t, work), "Including module: anaconda", "Including module: dmsquash-live")
}

func mustNotContain(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if i := strings.Index(text, u); i >= 0 {
			t.Errorf("%s has %q: %s", what, u, text[max(0, i-200):min(len(text), i+200)])
		}
	}
}
