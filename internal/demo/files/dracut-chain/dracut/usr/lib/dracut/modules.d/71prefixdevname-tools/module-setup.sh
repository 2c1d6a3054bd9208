#!/bin/bash
# The fbs demo's empty stand-in for Fedora's prefixdevname-tools module
# (prefixdevname is not in Debian), so that lorax's boot.iso arguments
# (--add "anaconda pollcdrom qemu qemu-net prefixdevname-tools") work as
# they are. It installs nothing: the demo names no network devices.

check() {
    return 255
}

install() {
    return 0
}
