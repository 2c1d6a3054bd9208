#!/usr/bin/env bash
# Compresses one root with each squashfs and EROFS setting fbs could use and
# prints time, size and size over xz's: the measurements compression=fast
# is chosen from. Prints figures; asserts nothing.
#
#   bench/compressors.sh ROOT
set -euo pipefail
ROOT=${1:?usage: bench/compressors.sh ROOT}
OUT=$(mktemp -d /var/tmp/fbs-compressors.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

now() { date +%s.%N; }
XZ_SIZE=
measure() { # name command… (writes $OUT/img)
	local t0 t size
	rm -f "$OUT/img"
	t0=$(now)
	"${@:2}" > "$OUT/log" 2>&1 || { echo "$1: failed: $(tail -1 "$OUT/log")"; return; }
	t=$(echo "$(now) - $t0" | bc)
	size=$(stat -c %s "$OUT/img")
	[ -n "$XZ_SIZE" ] || XZ_SIZE=$size
	printf '%-22s %7.1fs  %7.1f MiB  %5.2fx xz  %6.1f MiB/s\n' "$1" "$t" "$(echo "$size / 1048576" | bc -l)" \
		"$(echo "$size / $XZ_SIZE" | bc -l)" "$(echo "$(du -sm --apparent-size "$ROOT" | cut -f1) / $t" | bc -l)"
}
sq() { mksquashfs "$ROOT" "$OUT/img" -noappend -processors "$(nproc)" -comp "$@"; }

echo "root $ROOT: $(du -sh --apparent-size "$ROOT" | cut -f1), $(find "$ROOT" | wc -l) entries; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "squashfs xz bcj"        sq xz -Xbcj x86
for l in 1 3 6 9 15; do
	measure "squashfs zstd $l"   sq zstd -Xcompression-level "$l"
done
measure "squashfs gzip 9"        sq gzip
measure "squashfs gzip 6"        sq gzip -Xcompression-level 6
measure "squashfs lz4 hc"        sq lz4 -Xhc
measure "squashfs lz4"           sq lz4
measure "erofs lz4hc 12"         mkfs.erofs --quiet -zlz4hc,12 -Eztailpacking -C1048576 "$OUT/img" "$ROOT"
measure "erofs lz4hc 9"          mkfs.erofs --quiet -zlz4hc,9 -Eztailpacking -C1048576 "$OUT/img" "$ROOT"
measure "erofs lz4"              mkfs.erofs --quiet -zlz4 -Eztailpacking -C1048576 "$OUT/img" "$ROOT"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
