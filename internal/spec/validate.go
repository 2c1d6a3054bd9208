package spec

import (
	"cmp"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"fbs/internal/hostarch"
)

// noMedia says, for each architecture the request format names but fbs
// makes no media for, what such media need (lorax's templates for them).
var noMedia = map[string]string{
	"i686": "Fedora has made no i686 media since release 31 (i686 packages live on only for x86_64's multilib)",
	"ppc64le": "ppc64le media need GRUB for Open Firmware (grub2-ppc64le's powerpc-ieee1275 image with a CHRP " +
		"ppc/bootinfo.txt, as lorax's ppc64le.tmpl lays them out) and a boot test on qemu-system-ppc64 -M pseries, " +
		"which fbs has neither of",
	"s390x": "s390x media need an s390 boot image (images/cdboot.img from mk-s390image, with generic.prm and " +
		"generic.ins, as lorax's s390.tmpl lays them out) and a boot test on qemu-system-s390x, which fbs has neither of",
}

var (
	releaseRe = regexp.MustCompile(`^([0-9]{1,3}|rawhide)$`)
	nvrRe     = regexp.MustCompile(`^[A-Za-z0-9_.+~^-]+-[A-Za-z0-9_.+~^]+-[A-Za-z0-9_.+~^]+$`)
)

// Validate checks a request and fills in defaults. Errors name the JSON field.
func (r *Request) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &Error{Key: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !slices.Contains(Types, r.Type) {
		return bad("type", "unknown image type %q (boot, dvd or live)", r.Type)
	}
	if r.Arch == "" {
		return bad("arch", "missing (one of %s)", strings.Join(Arches, ", "))
	}
	if !slices.Contains(Arches, r.Arch) {
		return bad("arch", "unknown architecture %q (one of %s)", r.Arch, strings.Join(Arches, ", "))
	}
	if why, ok := noMedia[r.Arch]; ok {
		return bad("arch", "fbs makes %s media, not %s: %s", strings.Join(hostarch.Media, " and "), r.Arch, why)
	}
	r.Release = strings.ToLower(r.Release)
	if !releaseRe.MatchString(r.Release) {
		return bad("release", "%q is not a Fedora release (a number or rawhide)", r.Release)
	}
	if err := checkStaging(r.Staging); err != nil {
		return bad("staging", "%v", err)
	}
	for _, e := range r.Email {
		if a, err := mail.ParseAddress(e); err != nil || a.Name != "" || strings.ContainsAny(e, "<>\r\n") {
			return bad("email", "%q is not an email address", e)
		}
	}
	if r.Webhook != "" {
		if u, err := url.Parse(r.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("webhook", "%q is not an http or https URL", r.Webhook)
		}
	}
	for _, fw := range r.BootTest {
		if fw != "bios" && fw != "uefi" {
			return bad("boottest", "unknown firmware %q (bios, uefi)", fw)
		}
		if fw == "bios" && r.Arch == "aarch64" {
			return bad("boottest", "aarch64 media boot with UEFI alone: ask for uefi")
		}
	}
	for _, n := range r.NVR {
		if !nvrRe.MatchString(n) {
			return bad("nvr", "%q is not a name-version-release", n)
		}
	}
	for _, id := range r.BuildID {
		if id <= 0 {
			return bad("bid", "build id %d is not a positive number", id)
		}
	}
	sections := map[string]bool{"boot": r.Boot != nil, "dvd": r.DVD != nil, "live": r.Live != nil}
	if !sections[r.Type] {
		return bad(r.Type, "type=%s needs its %q section", r.Type, r.Type)
	}
	r.noteHostPaths()
	switch r.Type {
	case "boot":
		return r.Boot.validate(r)
	case "dvd":
		return r.DVD.validate(r)
	}
	return r.Live.validate(r)
}

func (b *Boot) validate(r *Request) error {
	release := r.Release
	if b.Repo.URL == "" && b.Repo.Mirror == "" {
		return &Error{Key: release + "_url", Msg: fmt.Sprintf("the release repo needs %s_url or %s_mirror", release, release)}
	}
	if b.Updates && b.UpdatesRepo.URL == "" && b.UpdatesRepo.Mirror == "" {
		return &Error{Key: "updates", Msg: fmt.Sprintf("updates=1 needs %s-updates_url or %s-updates_mirror", release, release)}
	}
	if b.UpdatesTesting && b.TestingRepo.URL == "" && b.TestingRepo.Mirror == "" {
		return &Error{Key: "updates_testing", Msg: fmt.Sprintf("updates-testing=1 needs %s-updates-testing_url or %s-updates-testing_mirror", release, release)}
	}
	if b.Product == "" {
		b.Product = "fedora"
	}
	if b.Version == "" {
		b.Version = release
	}
	if err := checkCompression(&b.Compression, "boot.compression"); err != nil {
		return err
	}
	if b.Timeout != nil && *b.Timeout < 0 {
		return &Error{Key: "boot.timeout", Msg: "a timeout is a number of seconds, 0 or more"}
	}
	// lorax's default volume id.
	b.Label = VolumeID(b.Product + "-" + b.Version + "-" + r.Arch)
	return nil
}

func (d *DVD) validate(r *Request) error {
	if d.Config == "" && d.Kickstart == "" {
		return &Error{Key: "dvd.config", Msg: "a DVD needs a kickstart (config=PATH or URL)"}
	}
	if d.Config != "" {
		if err := checkKickstartRef(d.Config); err != nil {
			return &Error{Key: "dvd.config", Msg: err.Error()}
		}
	}
	d.Name = cmp.Or(d.Name, "fedora")
	d.Version = cmp.Or(d.Version, r.Release)
	d.Flavor = cmp.Or(d.Flavor, "Everything")
	// pungi's volume id: the first of its formats that fits in 32 characters.
	for _, f := range []string{d.Name + "-" + d.Flavor + "-dvd-" + r.Arch + "-" + d.Version, d.Name + "-" + d.Flavor + "-" + r.Arch + "-" + d.Version,
		d.Name + "-dvd-" + r.Arch + "-" + d.Version} {
		if d.Label = VolumeID(f); len(f) <= 32 {
			break
		}
	}
	return checkCompression(&d.Compression, "dvd.compression")
}

func (l *Live) validate(r *Request) error {
	if l.Config == "" && l.Kickstart == "" {
		return &Error{Key: "live.config", Msg: "a live image needs a kickstart (config=PATH or URL)"}
	}
	if l.Config != "" {
		if err := checkKickstartRef(l.Config); err != nil {
			return &Error{Key: "live.config", Msg: err.Error()}
		}
	}
	if l.Product == "" {
		l.Product = "fedora"
	}
	if l.Releasever == "" {
		l.Releasever = r.Release
	}
	if l.Title == "" {
		l.Title = l.Product
	}
	if l.Label == "" {
		l.Label = l.Product + "-" + l.Releasever + "-" + r.Arch
	}
	l.Label = VolumeID(l.Label)
	switch l.RootFS {
	case "", "squashfs":
		l.RootFS = "squashfs"
		return checkCompression(&l.Compression, "live.compression")
	case "erofs":
		l.Compression = cmp.Or(l.Compression, ErofsCompressions[0])
		if !slices.Contains(ErofsCompressions, l.Compression) {
			return &Error{Key: "live.compression", Msg: fmt.Sprintf("rootfs=erofs: unknown EROFS compressor %q (one of %s)", l.Compression, strings.Join(ErofsCompressions, ", "))}
		}
		return nil
	}
	return &Error{Key: "live.rootfs", Msg: fmt.Sprintf("unknown root image filesystem %q (%s)", l.RootFS, strings.Join(RootFSes, " or "))}
}

// checkCompression defaults the squashfs compressor to xz, Fedora's.
func checkCompression(c *string, field string) error {
	if *c == "" {
		*c = "xz"
	}
	if !slices.Contains(Compressions, *c) {
		return &Error{Key: field, Msg: fmt.Sprintf("unknown compressor %q (one of %s)", *c, strings.Join(Compressions, ", "))}
	}
	return nil
}

func checkKickstartRef(ref string) error {
	if !strings.Contains(ref, "://") {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return fmt.Errorf("kickstart URL %q: %v", ref, err)
	}
	switch u.Scheme {
	case "http", "https", "ftp", "file":
		return nil
	}
	return fmt.Errorf("kickstart URL %q: scheme %q not supported (http, https, ftp or a path)", ref, u.Scheme)
}

func checkStaging(s string) error {
	if s == "" || !strings.Contains(s, "://") {
		// Empty keeps artifacts in the work dir; a bare host is anonymous FTP.
		if strings.ContainsAny(s, "/ \t") {
			return fmt.Errorf("%q is neither a URL nor a host name", s)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return fmt.Errorf("%q: a file URL needs an absolute path, as file:///srv/staging", s)
		}
	case "ftp", "ftps", "s3":
		if u.Host == "" {
			return fmt.Errorf("%q has no host (or bucket)", s)
		}
	default:
		return fmt.Errorf("%q: scheme %q not supported (file, ftp, ftps or s3)", s, u.Scheme)
	}
	return nil
}

// VolumeID makes an ISO volume id as livemedia-creator does: every character
// other than a letter, digit or '_' becomes '-', cut to 32 characters.
func VolumeID(label string) string {
	b := []byte(label)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '-'
		}
	}
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}

// noteHostPaths notes the 2012 tools' directories and log file a request
// names (lorax's outdir and workdir, pungi's destdir, cachedir and workdir,
// livecd-creator's tmpdir, cachedir and logfile). They named paths on the
// machine that built; fbs builds in its own work dir, keeps its own cache
// and log, and stages artifacts by staging=, so these are kept in the
// request but never used as paths, on a server or by fbs build.
func (r *Request) noteHostPaths() {
	var keys []string
	switch r.Type {
	case "boot":
		keys = []string{"outdir", r.Boot.OutDir, "workdir", r.Boot.WorkDir}
	case "dvd":
		keys = []string{"destdir", r.DVD.DestDir, "cachedir", r.DVD.CacheDir, "workdir", r.DVD.WorkDir}
	case "live":
		keys = []string{"tmpdir", r.Live.TmpDir, "cachedir", r.Live.CacheDir, "logfile", r.Live.LogFile}
	}
	for i := 0; i < len(keys); i += 2 {
		if keys[i+1] == "" {
			continue
		}
		note := fmt.Sprintf("%s.%s=%s: not applicable: fbs builds in its own work dir, with its own cache and log", r.Type, keys[i], keys[i+1])
		if !slices.Contains(r.Ignored, note) {
			r.Ignored = append(r.Ignored, note)
		}
	}
}
