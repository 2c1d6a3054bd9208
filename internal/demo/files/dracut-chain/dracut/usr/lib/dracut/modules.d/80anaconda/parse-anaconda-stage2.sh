#!/bin/sh
# inst.stage2=hd:LABEL=<label>: the root is images/install.img on the
# medium labelled <label>, mounted by dmsquash-live (cmdline hook 30).
stage2=$(getarg inst.stage2=)
case "$stage2" in
    hd:LABEL=*)
        [ -z "$root" ] && root="live:CDLABEL=${stage2#hd:LABEL=}"
        mkdir -p /etc/cmdline.d
        echo "rd.live.dir=images rd.live.squashimg=install.img" > /etc/cmdline.d/80-anaconda-stage2.conf
        ;;
esac
