#!/usr/bin/env bash
# Measures live ISO builds of a root of Fedora Workstation's kind of bulk
# (the demo distro plus `fbs demo bulk --size`: kernel modules, chromium,
# locales, LLVM, gcc…): fbs cold, fbs after one package changed (a newer
# version in the repo), fbs after only %post changed; then the same three
# steps with the bare tools by hand (dnf, mksquashfs, xorrisofs), where a
# person would reuse the installroot (dnf upgrade, the new %post run in it).
# Each for xz and for compression=fast. Prints figures; asserts nothing.
# fbs's rebuilds make the root image from the earlier builds' images'
# blocks (internal/squashfs.Reuse); bench/reuse-check.sh checks that such
# an image is a cold build's.
#
#   bench/large.sh                 # 1GiB of bulk
#   SIZE=2GiB bench/large.sh
#   COMPS=xz BARE=0 bench/large.sh # fbs with xz only
set -euo pipefail
cd "$(dirname "$0")/.."
FBS=${FBS:-bin/fbs}
SIZE=${SIZE:-1GiB}
BUMP=${BUMP:-gcc-12}
COMPS=${COMPS:-xz fast}
BARE=${BARE:-1}
CACHE=${BENCH_CACHE:-/var/cache/fbs-bench}
OUT=$(mktemp -d /var/tmp/fbs-large.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# The busybox boot chain: the bench measures the image, not the boot.
chain=(); "$FBS" demo repo --help 2>&1 | grep -q -- --chain && chain=(--chain busybox)
"$FBS" demo repo "$CACHE/demo-repo-busybox" --cache "$CACHE" "${chain[@]}" >/dev/null
"$FBS" demo bulk "$CACHE/bulk" --cache "$CACHE" --size "$SIZE" >/dev/null
"$FBS" demo bulk "$CACHE/bulk-bumped" --cache "$CACHE" --size "$SIZE" --bump "$BUMP" >/dev/null

# What compression=fast is for squashfs (internal/image/rootfs.go).
FAST=(-comp zstd -Xcompression-level "${FAST_LEVEL:-5}")

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
mib() { echo "scale=1; $(stat -c %s "$1") / 1048576" | bc; }

. bench/large-request.sh

declare -A T
fbs_build() { # name request cache
	local t0 t
	t0=$(now)
	# No --keep: it turns the root cache off.
	"$FBS" build "$2" --cache "$3" --work "$OUT/work" > "$OUT/$1.out" 2>&1 || { echo "$1: failed"; tail -5 "$OUT/$1.out"; exit 1; }
	t=$(since "$t0")
	T[$1]=$t
	printf '%-16s total %7.1fs  ' "$1" "$t"
	# A stage's last line is its time (off a terminal a long one also
	# prints a line every 30 s while it runs).
	awk '/^  [a-z-]+ +[0-9.]+s/ {if (!($1 in t)) o[n++]=$1; t[$1]=$2} END {for (i=0;i<n;i++) printf "%s %s  ", o[i], t[o[i]]}' "$OUT/$1.out"
	# The root image's size ends its stage's note; the ISO's, its artifact line.
	printf 'root image %s, ISO %s\n' "$(awk '/^  (squashfs|erofs) +[0-9.]+s .*MiB$/ {v=$(NF-1)" "$NF} END {print v}' "$OUT/$1.out")" \
		"$(awk '/\.iso \(/ {gsub(/[()]/, ""); print $(NF-1), $NF}' "$OUT/$1.out")"
	rm -rf "$OUT/work"
}

step() { # name command…
	local t0; t0=$(now)
	"${@:2}" > "$OUT/bare-$1.log" 2>&1 || { echo "bare $1: failed"; tail -5 "$OUT/bare-$1.log"; exit 1; }
	printf '%s %.1fs  ' "$1" "$(since "$t0")"
}

bare_image() { # comp args…: initramfs, root image, bootloader, ISO from $R
	local comp=("$@") kver
	kver=$(ls "$R/lib/modules")
	step initramfs unshare -m -p -f --propagation private sh -c "mount -t proc proc $R/proc && mount --rbind /dev $R/dev && mount -t sysfs sys $R/sys && chroot $R dracut --nomdadmconf --nolvmconf --xz --add 'livenet dmsquash-live' --no-hostonly --no-early-microcode --force /var/tmp/initrd.img $kver"
	mv "$R/var/tmp/initrd.img" "$B/initrd.img"
	step squashfs mksquashfs "$R" "$B/squashfs.img" -noappend "${comp[@]}"
	step bootloader sh -c "grub-mkimage -O i386-pc-eltorito -d $R/usr/lib/grub/i386-pc -o $B/eltorito.img -p /boot/grub2 iso9660 biosdisk &&
		echo 'search --no-floppy --set=root -l FBS-Large' > $B/grub.cfg && rm -f $B/efiboot.img && mkfs.fat -C $B/efiboot.img 2048 &&
		MTOOLS_SKIP_CHECK=1 mmd -i $B/efiboot.img ::EFI ::EFI/BOOT &&
		MTOOLS_SKIP_CHECK=1 mcopy -i $B/efiboot.img $R/boot/efi/EFI/fedora/gcdx64.efi ::EFI/BOOT/BOOTX64.EFI"
	step iso xorrisofs -o "$B/bench.iso" -R -J -V FBS-Large --grub2-mbr "$R/usr/lib/grub/i386-pc/boot_hybrid.img" -partition_offset 16 \
		-appended_part_as_gpt -append_partition 2 C12A7328-F81F-11D2-BA4B-00A0C93EC93B "$B/efiboot.img" \
		-iso_mbr_part_type EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 -c boot.cat --boot-catalog-hide -b images/eltorito.img \
		-no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info -eltorito-alt-boot \
		-e '--interval:appended_partition_2:all::' -no-emul-boot -graft-points "images/pxeboot/vmlinuz=$R/lib/modules/$kver/vmlinuz" \
		"images/pxeboot/initrd.img=$B/initrd.img" "LiveOS/squashfs.img=$B/squashfs.img" "boot/grub2/grub.cfg=$B/grub.cfg" \
		"boot/grub2/i386-pc=$R/usr/lib/grub/i386-pc" "images/eltorito.img=$B/eltorito.img" "EFI/BOOT/BOOTX64.EFI=$R/boot/efi/EFI/fedora/gcdx64.efi"
}

bare() { # name bulk-repo post first|again comp-args…
	local t0 name=$1 repo=$2 post=$3 how=$4
	shift 4
	printf '%-16s ' "$name"
	t0=$(now)
	line=$(
		printf '[demo]\nname=demo\nbaseurl=file://%s\ngpgcheck=0\n[bulk]\nname=bulk\nbaseurl=file://%s\ngpgcheck=0\n' "$CACHE/demo-repo-busybox" "$repo" > "$B/repos/r.repo"
		DNF=(dnf -y --installroot="$R" --releasever=1 --forcearch=x86_64 --setopt=reposdir="$B/repos" --setopt=cachedir="$B/cache")
		if [ "$how" = first ]; then
			step packages "${DNF[@]}" install @core kernel dracut grub2-pc-modules grub2-efi-x64-cdboot 'fbs-bulk-*'
		else
			step packages "${DNF[@]}" --refresh upgrade
		fi
		step post unshare -m -p -f --propagation private sh -c "mount -t proc proc $R/proc && chroot $R sh -c '$post'"
		bare_image "$@"
	)
	T[$name]=$(since "$t0")
	printf 'total %7.1fs  %s root image %s MiB, ISO %s MiB\n' "${T[$name]}" "$line" "$(mib "$B/squashfs.img")" "$(mib "$B/bench.iso")"
}

echo "live ISO of a large root: demo + $SIZE of bulk (bump: $BUMP); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for comp in $COMPS; do
	write_request "$OUT/$comp-1" "$CACHE/bulk" "echo first > /etc/issue" "$comp"
	write_request "$OUT/$comp-2" "$CACHE/bulk-bumped" "echo first > /etc/issue" "$comp"
	write_request "$OUT/$comp-3" "$CACHE/bulk-bumped" "echo second > /etc/issue" "$comp"
	rm -rf "$OUT/cache-$comp"
	fbs_build "fbs-$comp-cold" "$OUT/$comp-1/bench.conf" "$OUT/cache-$comp"
	fbs_build "fbs-$comp-package" "$OUT/$comp-2/bench.conf" "$OUT/cache-$comp"
	fbs_build "fbs-$comp-post" "$OUT/$comp-3/bench.conf" "$OUT/cache-$comp"
	[ "$BARE" = 1 ] || continue

	B=$OUT/bare-$comp; R=$B/root; mkdir -p "$B/repos"
	args=(-comp xz -Xbcj x86)
	[ "$comp" = fast ] && args=("${FAST[@]}")
	bare "bare-$comp-cold" "$CACHE/bulk" "echo first > /etc/issue" first "${args[@]}"
	bare "bare-$comp-package" "$CACHE/bulk-bumped" "echo first > /etc/issue" again "${args[@]}"
	bare "bare-$comp-post" "$CACHE/bulk-bumped" "echo second > /etc/issue" again "${args[@]}"
	rm -rf "$B"
done

echo
ratio() { printf '%-34s %5.2f\n' "$1" "$(echo "${T[$2]} / ${T[$3]}" | bc -l)"; }
for comp in $COMPS; do
	[ "$BARE" = 1 ] && for s in cold package post; do
		ratio "fbs / bare, $comp, $s" "fbs-$comp-$s" "bare-$comp-$s"
	done
	ratio "fbs $comp: cold / after a package" "fbs-$comp-cold" "fbs-$comp-package"
	ratio "fbs $comp: cold / after %post" "fbs-$comp-cold" "fbs-$comp-post"
done
[ "$COMPS" = "xz fast" ] && ratio "fbs cold: xz / fast" fbs-xz-cold fbs-fast-cold
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
