#!/bin/sh
# Generators run before the cmdline hooks: give dmsquash-live's generator
# the root that inst.stage2=hd:LABEL=<label> names, so that it makes
# /sysroot's mount unit.
type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh
stage2=$(getarg inst.stage2=)
case "$stage2" in
    hd:LABEL=*) root="live:CDLABEL=${stage2#hd:LABEL=}" exec /usr/lib/systemd/system-generators/dracut-dmsquash-generator "$@" ;;
esac
