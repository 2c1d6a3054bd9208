#!/bin/bash
# The fbs demo's stand-in for anaconda's dracut module (anaconda-dracut is
# not in Debian): it only finds stage2, inst.stage2=hd:LABEL=<label>, and
# hands it to dmsquash-live as the live root images/install.img, as
# anaconda's module does for a boot.iso. Nothing else of anaconda's.

check() {
    return 255
}

depends() {
    echo dmsquash-live
}

install() {
    inst_hook cmdline 25 "$moddir/parse-anaconda-stage2.sh"
    inst_script "$moddir/anaconda-generator.sh" "$systemdutildir/system-generators/dracut-anaconda-generator"
}
