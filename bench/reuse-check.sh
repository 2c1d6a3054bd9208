#!/usr/bin/env bash
# Checks, on bench/large.sh's root of the demo plus bulk, that a rebuilt
# root image made from an earlier one's blocks is the image a cold build
# makes: a cold xz build, then one after a changed package and one after
# a changed %post, each kept (--keep); each rebuilt image's unsquashfs -lls
# against mksquashfs's of the same root (zstd level 1: the listing does not
# depend on the compressor), every file's sha256 against the root's, and a
# BIOS boot of the last ISO. Exits non-zero on a difference.
#
#   bench/reuse-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FBS=${FBS:-bin/fbs}
SIZE=${SIZE:-1GiB}
BUMP=${BUMP:-gcc-12}
CACHE=${BENCH_CACHE:-/var/cache/fbs-bench}
OUT=$(mktemp -d /var/tmp/fbs-reuse.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"$FBS" demo repo "$CACHE/demo-repo-busybox" --cache "$CACHE" --chain busybox >/dev/null
"$FBS" demo bulk "$CACHE/bulk" --cache "$CACHE" --size "$SIZE" >/dev/null
"$FBS" demo bulk "$CACHE/bulk-bumped" --cache "$CACHE" --size "$SIZE" --bump "$BUMP" >/dev/null

. bench/large-request.sh

# sums DIR: each regular file's path and sha256, sorted.
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }

status=0
step() { # name bulk-repo post
	write_request "$OUT/$1" "$2" "$3" xz
	"$FBS" build "$OUT/$1/bench.conf" --cache "$OUT/cache" --work "$OUT/$1/work" --keep > "$OUT/$1.out" 2>&1 || { echo "$1: build failed"; tail -5 "$OUT/$1.out"; exit 1; }
	local w; w=$(echo "$OUT/$1"/work/*/)
	printf '%-8s %s\n' "$1" "$(grep -E '^  squashfs +[0-9.]+s ' "$OUT/$1.out" | tail -1 | sed 's/^ *//')"
	[ "$1" = cold ] && return
	# What came from the earlier images: distinct contents and bytes.
	grep -o 'squashfs: [0-9]* of [0-9]* distinct file contents.*' "$w/build.log" | sed "s/^/$1: /" || true
	mksquashfs "$w/root" "$OUT/ref.img" -noappend -comp zstd -Xcompression-level 1 -quiet >/dev/null
	if ! diff <(unsquashfs -lls -n "$w/parts/root.img" | grep squashfs-root) <(unsquashfs -lls -n "$OUT/ref.img" | grep squashfs-root) > "$OUT/$1.lls.diff"; then
		echo "$1: unsquashfs -lls differs from a cold image's:"; head -20 "$OUT/$1.lls.diff"; status=1
	fi
	rm -rf "$OUT/x" && unsquashfs -d "$OUT/x" -n "$w/parts/root.img" >/dev/null
	if ! diff <(sums "$OUT/x") <(sums "$w/root") > "$OUT/$1.sums.diff"; then
		echo "$1: files differ from the root's:"; head -20 "$OUT/$1.sums.diff"; status=1
	fi
	echo "$1: $(grep -c . <(sums "$OUT/x")) files compared"
	rm -rf "$OUT/x" "$OUT/ref.img"
	ISO=$(echo "$w"/*.iso)
}
step cold "$CACHE/bulk" "echo first > /etc/issue"
step package "$CACHE/bulk-bumped" "echo first > /etc/issue"
step post "$CACHE/bulk-bumped" "echo second > /etc/issue"
"$FBS" boot-test "$ISO" --expect "fbs-demo: init reached" > "$OUT/boot.out" 2>&1 || { echo "boot: failed"; tail -20 "$OUT/boot.out"; status=1; }
[ "$status" = 0 ] && echo "the rebuilt images are the cold images' and the last boots"
exit "$status"
