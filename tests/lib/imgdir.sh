# Where a host test puts its image files, sourced after tap.sh:
#
#       imgdir_setup NAME SIZE_MIB    (after tmp=$(mktemp -d))
#       imgdir_cleanup                (in the test's EXIT trap)
#
# IMGDIR is a private tmpfs of SIZE_MIB mounted at MNT, else a directory in
# /dev/shm if that is a tmpfs with SIZE_MIB free, else $tmp on the disk;
# then NO_TMPFS says so (sparse images of 16 TiB and more do not fit there:
# ext4 stops at that file size).

MNT='' IMGDIR='' NO_TMPFS=''
is_tmpfs() { [ "$(stat -f -c %T "$1" 2>/dev/null)" = tmpfs ]; }

imgdir_setup() {
        local name=$1 size=$2
        IMGDIR_NAME=$name
        MNT=$(mktemp -d)
        if mount -t tmpfs -o size="${size}M",mode=0700 "partwrap-$name" "$MNT" 2>/dev/null && is_tmpfs "$MNT"; then
                IMGDIR=$MNT
                diag "images on a private tmpfs at $MNT"
                return
        fi
        rmdir "$MNT"
        MNT=
        if is_tmpfs /dev/shm && [ $(($(stat -f -c '%a * %S' /dev/shm))) -ge $((size << 20)) ]; then
                IMGDIR=$(mktemp -d "/dev/shm/partwrap-$name.XXXXXX")
                diag "images on /dev/shm (could not mount a tmpfs)"
                return
        fi
        IMGDIR=$tmp
        NO_TMPFS="no tmpfs for images (mount failed, /dev/shm unusable); $(stat -f -c %T "$tmp") stops at 16 TiB"
        diag "$NO_TMPFS"
}

imgdir_cleanup() {
        if [ -n "$MNT" ]; then
                umount "$MNT" 2>/dev/null
                rmdir "$MNT"
        fi
        case $IMGDIR in "/dev/shm/partwrap-${IMGDIR_NAME:-}".*) rm -rf "$IMGDIR" ;; esac
}
