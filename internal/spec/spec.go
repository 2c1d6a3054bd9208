// Package spec holds a build request: its canonical JSON form, the seed's INI
// form, and the validation both go through.
package spec

import (
	"fmt"
	"strings"
)

// Request is one image build request, whatever form it arrived in.
type Request struct {
	Type    string   `json:"type"`
	Arch    string   `json:"arch"`
	Release string   `json:"release"`
	Staging string   `json:"staging,omitempty"`
	Email   []string `json:"email,omitempty"`
	// Webhook, an fbs addition, hears every change of the build's state.
	Webhook string `json:"webhook,omitempty"`
	// BootTest asks for the image to be booted in QEMU with these
	// firmwares (bios, uefi) before it is staged; a failing boot fails the
	// build. The server's or worker's --boot-test adds to it.
	BootTest []string `json:"boottest,omitempty"`
	// NVR and BuildID name Koji builds whose packages go into the image.
	NVR     []string `json:"nvr,omitempty"`
	BuildID []int    `json:"bid,omitempty"`

	Boot *Boot `json:"boot,omitempty"`
	DVD  *DVD  `json:"dvd,omitempty"`
	Live *Live `json:"live,omitempty"`

	// Dir is where relative paths in the request resolve: the spec file's
	// directory. Empty for a request that came over the network.
	Dir string `json:"-"`
	// Source names the request in errors (its file).
	Source string `json:"-"`
	// Ignored lists the keys that were accepted but mean nothing to fbs,
	// so the build log can say so.
	Ignored []string `json:"-"`
}

// RepoSource is a repository given by base URL, by metalink/mirrorlist, or both.
type RepoSource struct {
	URL    string `json:"url,omitempty"`
	Mirror string `json:"mirror,omitempty"`
}

// Boot is the [boot] section: an installer ISO like lorax's boot.iso.
type Boot struct {
	Product        string     `json:"product,omitempty"`
	Version        string     `json:"version,omitempty"`
	Updates        bool       `json:"updates,omitempty"`
	UpdatesTesting bool       `json:"updates_testing,omitempty"`
	Repo           RepoSource `json:"repo"`
	UpdatesRepo    RepoSource `json:"updates_repo,omitempty"`
	TestingRepo    RepoSource `json:"updates_testing_repo,omitempty"`
	Proxy          string     `json:"proxy,omitempty"`
	OutDir         string     `json:"outdir,omitempty"`
	WorkDir        string     `json:"workdir,omitempty"`
	// fbs's own keys: packages added to the installer's runtime set, kernel
	// arguments for every menu entry, the GRUB menu timeout in seconds, and
	// the compressor of images/install.img.
	Packages    []string `json:"packages,omitempty"`
	Append      string   `json:"append,omitempty"`
	Timeout     *int     `json:"timeout,omitempty"`
	Compression string   `json:"compression,omitempty"`
	// Label is the volume id, made from product, version and arch.
	Label string `json:"-"`
}

// DVD is the [dvd] section: installer plus a package repository.
type DVD struct {
	Name       string `json:"name,omitempty"`
	Version    string `json:"version,omitempty"`
	Flavor     string `json:"flavor,omitempty"`
	BugURL     string `json:"bugurl,omitempty"`
	Config     string `json:"config,omitempty"`
	Kickstart  string `json:"kickstart,omitempty"`
	DestDir    string `json:"destdir,omitempty"`
	CacheDir   string `json:"cachedir,omitempty"`
	WorkDir    string `json:"workdir,omitempty"`
	NoSource   bool   `json:"nosource,omitempty"`
	SourceISOs bool   `json:"sourceisos,omitempty"`
	Force      bool   `json:"force,omitempty"`
	Stage      string `json:"stage,omitempty"`
	// Compression is fbs's own: the compressor of images/install.img.
	Compression string `json:"compression,omitempty"`
	// Label is the volume id, as pungi makes it.
	Label string `json:"-"`
}

// Live is the [live] section: a live ISO made from a kickstart.
type Live struct {
	Label      string `json:"label,omitempty"`
	Title      string `json:"title,omitempty"`
	Product    string `json:"product,omitempty"`
	Releasever string `json:"releasever,omitempty"`
	// Config names the kickstart: a path (relative to the spec file) or an
	// http/https/ftp URL. Kickstart carries the text itself instead.
	Config    string `json:"config,omitempty"`
	Kickstart string `json:"kickstart,omitempty"`
	TmpDir    string `json:"tmpdir,omitempty"`
	CacheDir  string `json:"cachedir,omitempty"`
	LogFile   string `json:"logfile,omitempty"`
	// Compression is the root image's compressor: xz (Fedora's) or a
	// faster one for squashfs, lz4hc, lz4 or lzma for EROFS; fast picks
	// the quickest whose image stays near xz's size.
	Compression string `json:"compression,omitempty"`
	// RootFS is the root image's filesystem: squashfs (lorax's) or erofs
	// (Fedora 42+ kiwi-built live media). Both go in LiveOS/squashfs.img,
	// as kiwi names them, and dracut tells them apart by their magic.
	RootFS string `json:"rootfs,omitempty"`
}

// Types, arches and compressors a request may name.
var (
	Types        = []string{"boot", "dvd", "live"}
	Arches       = []string{"x86_64", "i686", "aarch64", "ppc64le", "s390x"}
	Compressions = []string{"xz", "zstd", "gzip", "lz4", "lzo", "fast"}
	RootFSes     = []string{"squashfs", "erofs"}
	// ErofsCompressions are mkfs.erofs's: lz4hc first, the default, as
	// Debian 12's erofs-utils 1.5 and Debian's 6.1 kernel have no lzma
	// (Fedora's live media use lzma, level 6). xz means lzma, xz's
	// algorithm, as the strongest: Fedora's choice for either filesystem.
	ErofsCompressions = []string{"lz4hc", "lz4", "lzma", "xz", "fast"}
)

// Error is bad input: it names the file, line, key or field at fault.
type Error struct {
	File string
	Line int
	Key  string // INI key or JSON field
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// BadInput marks the error as the requester's to fix (exit status 2).
func (e *Error) BadInput() bool { return true }
