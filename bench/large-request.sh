# write_request DIR BULK-REPO POST COMPRESSION writes DIR/bench.conf, a
# live request of the demo (busybox chain, in $CACHE) plus every package of
# the bulk repo, with the %post given: the request of bench/large.sh and
# bench/reuse-check.sh.
write_request() { # dir bulk-repo post compression
	mkdir -p "$1"
	cat > "$1/bench.ks" <<KS
repo --name=demo --baseurl=file://$CACHE/demo-repo-busybox
repo --name=bulk --baseurl=file://$2
bootloader --append="console=ttyS0,115200" --timeout=1
%packages
@core
kernel
dracut
grub2-pc-modules
grub2-efi-x64-cdboot
fbs-bulk-*
%end
%post
$3
%end
KS
	printf '[DEFAULT]\ntype=live\narch=x86_64\nrelease=1\n[live]\nlabel=FBS-Large\nreleasever=1\ncompression=%s\nconfig=bench.ks\n' "$4" > "$1/bench.conf"
}
