package image

import (
	"fmt"
	"strconv"
	"strings"
)

// fastCompression is what compression=fast means for each root image
// filesystem: the quickest setting whose image stayed within about 1.35
// times xz's squashfs on a 1.3 GiB root of Debian's kernel modules,
// chromium, LLVM, gcc, fonts and locales (bench/compressors.sh; the
// figures are in the README): squashfs zstd level 5 made 1.35 times xz's
// in 12 s where xz took 425 s (level 3: 1.40 in 6 s; gzip 6: 1.35 in
// 39 s). EROFS has no setting that close here (Debian 12's erofs-utils
// 1.5 offers only lz4 and lz4hc): its fast is the nearest, lz4hc level 9
// (1.79 times in 96 s on one core; level 12 is as small within half a
// percent in about twice the time, lz4 2.1 times in 11 s).
var fastCompression = map[string]string{"squashfs": "zstd,5", "erofs": "lz4hc,9"}

// erofsLevels are the compression levels fbs asks mkfs.erofs for: lz4hc
// at its strongest, lzma (and xz, which means it) at Fedora's (kiwi's
// erofscompression="lzma,level=6").
var erofsLevels = map[string]string{"lz4hc": "lz4hc,12", "lzma": "lzma,6", "xz": "lzma,6"}

// Compressor is the compressor setting a root image is written with,
// "name" or "name,level": compression=fast resolved for the filesystem.
func Compressor(fs, comp string) string {
	if comp == "fast" {
		return fastCompression[fs]
	}
	if fs == "erofs" {
		if c, ok := erofsLevels[comp]; ok {
			return c
		}
	}
	return comp
}

// RootImageArgs writes the root's image in fs (squashfs or erofs) with
// the request's compression.
func RootImageArgs(fs, root, out, comp, arch string, procs int) []string {
	if fs == "erofs" {
		return MkfsErofsArgs(root, out, Compressor(fs, comp))
	}
	return MksquashfsArgs(root, out, Compressor(fs, comp), arch, procs)
}

// MkfsErofsArgs writes an EROFS image of the root with big physical
// clusters and the tails of files packed inline, which make it about a
// tenth smaller than mkfs.erofs's defaults. Fedora's kiwi-built media ask
// for 1 MiB clusters (-C 1048576), but erofs-utils 1.5 then took 114 s
// for a 19 MiB root where 64 KiB took 9 s for 0.5 % more. mkfs.erofs 1.5
// compresses on one core; --quiet, as its progress is one line rewritten
// with escape codes.
func MkfsErofsArgs(root, out, comp string) []string {
	return []string{"mkfs.erofs", "--quiet", "-z" + comp, "-C65536", "-Eztailpacking", out, root}
}

// ErofsCompressors are the compressors a mkfs.erofs offers, from its help
// ("Available compressors are: lz4hc, lz4").
func ErofsCompressors(help string) []string {
	for _, line := range strings.Split(help, "\n") {
		if list, ok := strings.CutPrefix(strings.TrimSpace(line), "Available compressors are:"); ok {
			var out []string
			for _, c := range strings.Split(list, ",") {
				out = append(out, strings.TrimSpace(c))
			}
			return out
		}
	}
	return nil
}

// compressorName is a setting's compressor without its level.
func compressorName(setting string) string {
	name, _, _ := strings.Cut(setting, ",")
	return name
}

// DescribeCompressor says a setting as the build log does: "zstd level 3".
func DescribeCompressor(setting string) string {
	name, level, ok := strings.Cut(setting, ",")
	if !ok {
		return name
	}
	return fmt.Sprintf("%s level %s", name, level)
}

// squashfsLevel is the mksquashfs arguments for a setting's level.
func squashfsLevel(setting string) []string {
	_, level, ok := strings.Cut(setting, ",")
	if !ok {
		return nil
	}
	if _, err := strconv.Atoi(level); err != nil {
		return nil
	}
	return []string{"-Xcompression-level", level}
}
