#!/usr/bin/env bash
# The bash completion (completion/partwrap): sourced into a bash, with the
# bash-completion package's _init_completion when it is installed and
# without it, then asked for COMPREPLY on a few command lines. Disk names
# come from the section headers of the directory -c names.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

COMPLETION=$TOP/completion/partwrap
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A configuration directory: two files, a hidden one and a backup that the
# parser would not read, and a comment that looks like a section.
mkdir -p "$tmp/conf" "$tmp/other" "$tmp/cdir/sub"
printf '[win-data]\nvolume = /dev/vg/data\n\n  [legacy-boot]\nvolume = LABEL=X ; [not-a-disk]\n' >"$tmp/conf/10-a.conf"
printf '# [commented]\n[vm-disk] ; the VM\nvolume = /dev/vg/vm\n' >"$tmp/conf/20-b.conf"
printf '[hidden]\nvolume = /dev/x\n' >"$tmp/conf/.hidden.conf"
printf '[backup]\nvolume = /dev/y\n' >"$tmp/conf/20-b.conf.bak"
printf '[elsewhere]\nvolume = /dev/z\n' >"$tmp/other/x.conf"
touch "$tmp/cdir/one.conf" "$tmp/cdir/two.txt"

# complete MODE LINE: COMPREPLY for the command line LINE (the cursor at its
# end), sorted, one per line. MODE "plain" sources only the completion,
# "full" the bash-completion package first.
complete_line() {
        local mode=$1 line=$2
        bash --norc --noprofile -c '
                mode=$1 completion=$2 bc=$3 line=$4
                if [ "$mode" = full ]; then
                        # bash_completion wants an interactive-looking shell.
                        PS1="$ " BASH_COMPLETION_VERSINFO= source "$bc" >/dev/null 2>&1 || exit 3
                        declare -F _init_completion >/dev/null || exit 3
                fi
                source "$completion" || exit 4
                # The words as readline splits them: at blanks, and "=" (in
                # COMP_WORDBREAKS) as a word of its own.
                COMP_LINE=$line COMP_POINT=${#line}
                read -r -a COMP_WORDS <<<"${line//=/ = }"
                [[ $line == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _partwrap partwrap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
                printf "%s\n" "${COMPREPLY[@]}" | sort
        ' complete_line "$mode" "$COMPLETION" "$BASH_COMPLETION" "$line"
}

# expect MODE LINE EXPECTED...: COMPREPLY is exactly EXPECTED (any order).
expect() {
        local mode=$1 line=$2 got want
        shift 2
        got=$(complete_line "$mode" "$line")
        want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
        check_eq "[$mode] '$line' completes to: ${*:-nothing}" "$want" "$got"
}

modes=(plain)
if [ -r "$BASH_COMPLETION" ] && complete_line full "partwrap " >/dev/null 2>&1; then
        modes+=(full)
else
        skip "with the bash-completion package" "$BASH_COMPLETION not installed (apt-get install bash-completion)"
fi

check "completion/partwrap is valid bash" bash -n "$COMPLETION"
for m in "${modes[@]}"; do
        expect "$m" "partwrap " apply stop check show validate mkheader udev-match remove status
        expect "$m" "partwrap s" stop show status
        expect "$m" "partwrap --j" --json
        expect "$m" "partwrap --ver" --verbose --version
        expect "$m" "partwrap -c $tmp/conf apply " win-data legacy-boot vm-disk
        expect "$m" "partwrap -c $tmp/conf check l" legacy-boot
        expect "$m" "partwrap -c $tmp/conf stop vm-disk " win-data legacy-boot
        expect "$m" "partwrap show -c $tmp/other " elsewhere
        expect "$m" "partwrap --config-dir $tmp/other show " elsewhere
        expect "$m" "partwrap -c $tmp/nonexistent show "
        expect "$m" "partwrap -c $tmp/conf apply --dr" --dry-run
        expect "$m" "partwrap mkheader --ta" --table
        expect "$m" "partwrap mkheader --table " gpt mbr
        expect "$m" "partwrap mkheader --sector-size " 512 4096
        expect "$m" "partwrap mkheader --type linux-l" linux-lvm linux-luks
        expect "$m" "partwrap mkheader --size 1G --s" --sector-size --size
        expect "$m" "partwrap validate $tmp/cdir/" "$tmp/cdir/sub" "$tmp/cdir/one.conf"
        expect "$m" "partwrap -c $tmp/c" "$tmp/cdir" "$tmp/conf"
done
# --config-dir=DIR: three words for readline, which _init_completion -n =
# joins again.
for m in "${modes[@]}"; do
        expect "$m" "partwrap --config-dir=$tmp/other apply " elsewhere
done

tap_done
