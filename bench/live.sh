#!/usr/bin/env bash
# Measures the demo live ISO build: fbs cold (empty package cache), fbs warm
# (same request with another %post, same cache), and the same steps run by
# hand with the bare tools. The demo repo is served over HTTP from 127.0.0.1,
# as a mirror would serve it, so downloads count. Prints figures; asserts nothing.
#
#   bench/live.sh            # xz, Fedora's compressor
#   COMP=zstd bench/live.sh  # zstd
set -euo pipefail
cd "$(dirname "$0")/.."
FBS=${FBS:-bin/fbs}
COMP=${COMP:-xz}
CACHE=${BENCH_CACHE:-/var/cache/fbs-bench}
PORT=${PORT:-18431}
OUT=$(mktemp -d /var/tmp/fbs-bench.XXXXXX)
trap 'kill $HTTP 2>/dev/null; rm -rf "$OUT"' EXIT

"$FBS" demo repo "$CACHE/demo-repo" --cache "$CACHE" >/dev/null
/usr/bin/python3 -m http.server -b 127.0.0.1 -d "$CACHE/demo-repo" "$PORT" >/dev/null 2>&1 &
HTTP=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/repodata/repomd.xml" >/dev/null 2>&1 && break; sleep 0.1; done
REPO="http://127.0.0.1:$PORT/"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

write_request() { # dir post
	mkdir -p "$1"
	cat > "$1/bench.ks" <<KS
repo --name=mirror --baseurl=$REPO
bootloader --append="console=ttyS0,115200" --timeout=1
%packages
@core
@live-boot
%end
%post
$2
%end
KS
	printf '[DEFAULT]\ntype=live\narch=x86_64\nrelease=1\n[live]\nlabel=FBS-Bench\nreleasever=1\ncompression=%s\nconfig=bench.ks\n' "$COMP" > "$1/bench.conf"
}

fbs_build() { # name request cache
	local t0 t; t0=$(now)
	"$FBS" build "$2" --cache "$3" --work "$OUT/work" > "$OUT/$1.out" 2>&1
	t=$(since "$t0")
	printf '%-10s total %6.2fs  ' "$1" "$t"
	awk '/^  [a-z-]+ +[0-9.]+s/ {printf "%s %s  ", $1, $2}' "$OUT/$1.out"
	awk '/\.iso \(/ {gsub(/[()]/,""); printf "ISO %s %s", $(NF-1), $NF}' "$OUT/$1.out"
	echo
	echo "$t" > "$OUT/$1.time"
}

echo "demo live ISO, $COMP, $(nproc) cores, repo over HTTP on 127.0.0.1"
write_request "$OUT/req1" "echo first > /etc/issue"
write_request "$OUT/req2" "echo second > /etc/issue"
rm -rf "$OUT/fbs-cache"
fbs_build "fbs-cold" "$OUT/req1/bench.conf" "$OUT/fbs-cache"
fbs_build "fbs-warm" "$OUT/req2/bench.conf" "$OUT/fbs-cache"

# The same steps by hand.
B=$OUT/bare; R=$B/root; mkdir -p "$B/repos" "$B/iso"
printf '[mirror]\nname=mirror\nbaseurl=%s\ngpgcheck=0\n' "$REPO" > "$B/repos/m.repo"
step() { # name command…
	local t0; t0=$(now)
	"${@:2}" > "$B/$1.log" 2>&1
	printf '%s %.2fs  ' "$1" "$(since "$t0")"
}
T0=$(now)
printf '%-10s ' "bare"
line=$(
step packages dnf -y --installroot="$R" --releasever=1 --forcearch=x86_64 --setopt=reposdir="$B/repos" \
	--setopt=cachedir="$B/cache" install @core @live-boot
step post unshare -m -p -f --propagation private sh -c "mount -t proc proc $R/proc && chroot $R sh -c 'echo first > /etc/issue'"
KVER=$(ls "$R/lib/modules")
step initramfs unshare -m -p -f --propagation private sh -c "mount -t proc proc $R/proc && mount --rbind /dev $R/dev && mount -t sysfs sys $R/sys && chroot $R dracut --nomdadmconf --nolvmconf --xz --add 'livenet dmsquash-live' --no-hostonly --no-early-microcode --force /var/tmp/initrd.img $KVER"
mv "$R/var/tmp/initrd.img" "$B/initrd.img"
XZ=(); [ "$COMP" = xz ] && XZ=(-Xbcj x86)
step squashfs mksquashfs "$R" "$B/squashfs.img" -noappend -comp "$COMP" "${XZ[@]}"
step bootloader sh -c "grub-mkimage -O i386-pc-eltorito -d $R/usr/lib/grub/i386-pc -o $B/eltorito.img -p /boot/grub2 iso9660 biosdisk &&
	echo 'search --no-floppy --set=root -l FBS-Bench' > $B/grub.cfg && mkfs.fat -C $B/efiboot.img 2048 && MTOOLS_SKIP_CHECK=1 mmd -i $B/efiboot.img ::EFI ::EFI/BOOT &&
	MTOOLS_SKIP_CHECK=1 mcopy -i $B/efiboot.img $R/boot/efi/EFI/fedora/gcdx64.efi ::EFI/BOOT/BOOTX64.EFI"
step iso xorrisofs -o "$B/bench.iso" -R -J -V FBS-Bench --grub2-mbr "$R/usr/lib/grub/i386-pc/boot_hybrid.img" -partition_offset 16 \
	-appended_part_as_gpt -append_partition 2 C12A7328-F81F-11D2-BA4B-00A0C93EC93B "$B/efiboot.img" \
	-iso_mbr_part_type EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 -c boot.cat --boot-catalog-hide -b images/eltorito.img \
	-no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info -eltorito-alt-boot \
	-e '--interval:appended_partition_2:all::' -no-emul-boot -graft-points "images/pxeboot/vmlinuz=$R/lib/modules/$KVER/vmlinuz" \
	"images/pxeboot/initrd.img=$B/initrd.img" "LiveOS/squashfs.img=$B/squashfs.img" "boot/grub2/grub.cfg=$B/grub.cfg" \
	"boot/grub2/i386-pc=$R/usr/lib/grub/i386-pc" "images/eltorito.img=$B/eltorito.img" "EFI/BOOT/BOOTX64.EFI=$R/boot/efi/EFI/fedora/gcdx64.efi"
)
BARE=$(since "$T0")
printf 'total %6.2fs  %s ISO %s\n' "$BARE" "$line" "$(du -h "$B/bench.iso" | cut -f1)"

COLD=$(cat "$OUT/fbs-cold.time"); WARM=$(cat "$OUT/fbs-warm.time")
printf '\nfbs cold / bare tools = %.2f   fbs cold / fbs warm = %.2f\n' "$(echo "$COLD / $BARE" | bc -l)" "$(echo "$COLD / $WARM" | bc -l)"
