#!/usr/bin/env bash
# The layering the README's "Architecture" paragraph describes, checked on
# the sources so that it stays true:
#   - layout, the pure bottom, includes no partwrap header but util.h;
#   - the pure middle (table, gpt, mbr, guid, ptype, plan, decide, dmtable)
#     includes no I/O module (dm, loop, probe, header, wait, stack, usage)
#     and no command module;
#   - a device-mapper table is parsed from the kernel's text in dm.c only
#     (dm_get_next_target and the linear parameters), and written as text
#     for libdevmapper in dm.c only (dm_task_add_target);
#   - the limit of 119 bytes for a disk name is defined once;
#   - one UTF-8 decoder (util.c's utf8_decode).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
cd "$TOP/src" || exit 1

# includes FILE: the project headers FILE includes.
includes() {
        sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1" | sort -u | tr '\n' ' '
}

check_eq_str() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   found: '$3', expected: '$2'"; fi
}

check_eq_str "layout.h includes only util.h" "util.h " "$(includes layout.h)"
check_eq_str "layout.c includes only layout.h" "layout.h " "$(includes layout.c)"

for f in table.h table.c gpt.c mbr.c gpt-format.h guid.c guid.h ptype.c ptype.h plan.c plan.h decide.c dmtable.c; do
        bad=$(includes "$f" | tr ' ' '\n' | grep -xE 'dm.h|loop.h|probe.h|header.h|wait.h|stack.h|usage.h|reconcile.h|report.h|disk.h' | tr '\n' ' ')
        # decide.c and dmtable.c use the table types of dm.h, no function.
        case $f in decide.c | dmtable.c) bad=$(echo "$bad" | tr ' ' '\n' | grep -vx 'dm.h' | tr '\n' ' ') ;; esac
        check_eq_str "$f reaches no I/O module" "" "${bad% }"
done

check_eq_str "only dm.c reads a table from libdevmapper (dm_get_next_target)" "dm.c" \
        "$(grep -l 'dm_get_next_target' -- *.c *.h | tr '\n' ' ' | sed 's/ $//')"
check_eq_str "only dm.c hands libdevmapper a table (dm_task_add_target)" "dm.c" \
        "$(grep -l 'dm_task_add_target' -- *.c *.h | tr '\n' ' ' | sed 's/ $//')"
# A linear target's parameters are "MAJ:MIN OFFSET": a scanf of that shape,
# or of a table's params, anywhere else is a second parser.
check_eq_str "only dm.c parses linear parameters" "dm.c" \
        "$(grep -lE 'scanf\([^;]*"%u:%u %|scanf\([^;]*params' -- *.c | tr '\n' ' ' | sed 's/ $//')"
check_eq_str "no module keeps a table as parameter strings" "" \
        "$(grep -lE '\bparams\[|->params\b|\.params\b' -- *.c *.h | grep -vx dm.c | tr '\n' ' ' | sed 's/ $//')"
check_eq_str "the name limit 119 is defined once (dm.h)" "dm.h" \
        "$(grep -lE '#define [A-Z_]+ 119\b' -- *.h | tr '\n' ' ' | sed 's/ $//')"
check_eq_str "one UTF-8 decoder (util.c)" "util.c" \
        "$(grep -liE '& 0xC0\) [!=]= 0x80' -- *.c | tr '\n' ' ' | sed 's/ $//')"
check_eq_str "no fixed table of three targets" "" "$(grep -nE 'DM_TABLE_MAX|regions\[3\]' -- *.c *.h)"

tap_done
