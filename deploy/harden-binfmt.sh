#!/bin/sh
# Makes each interpreter that binfmt_misc opened at registration (flag F,
# as Debian's qemu-user-static registers them) unchangeable by a build:
# /proc/PID/exe of a program it runs leads a build's code, which is root,
# to the host's file itself, where it could set the setuid bit or file
# capabilities. Immutable (chattr +i) it cannot; where the filesystem has
# no immutable flag, the file is bind-mounted read-only over itself and
# the entry registered again, so that the kernel holds it through the
# read-only mount. fbs refuses confined builds while one is left
# (fbs doctor lists them). Undo before upgrading qemu-user-static:
#   chattr -i /usr/bin/qemu-*-static
set -u
dir=/proc/sys/fs/binfmt_misc
[ -e "$dir/status" ] || exit 0
for entry in "$dir"/*; do
	name=${entry##*/}
	case $name in status|register) continue ;; esac
	grep -q '^enabled' "$entry" 2>/dev/null || continue
	grep -q '^flags:.*F' "$entry" || continue
	interp=$(sed -n 's/^interpreter //p' "$entry")
	file=$(readlink -f "$interp") || continue
	case $(lsattr "$file" 2>/dev/null | cut -d' ' -f1) in *i*) continue ;; esac
	case ,$(findmnt -n -o OPTIONS --target "$file" 2>/dev/null), in *,ro,*) continue ;; esac
	chattr +i "$file" 2>/dev/null && continue
	if mount --bind "$file" "$file" && mount -o remount,bind,ro "$file" &&
		update-binfmts --disable "$name" && update-binfmts --enable "$name"; then
		continue
	fi
	echo "harden-binfmt: cannot protect $file; disabling $name" >&2
	echo 0 > "$entry"
done
