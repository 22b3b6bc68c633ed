#!/bin/sh
# embed.sh IN OUT SYMBOL: writes a C file defining SYMBOL (the bytes of IN,
# NUL-terminated) and SYMBOL_len (their count, without the NUL).
set -eu
in=$1; out=$2; sym=$3
tmp="$out.tmp.$$"
{
    echo "/* generated from $in by scripts/embed.sh: do not edit */"
    echo "#include <stddef.h>"
    echo "const unsigned char $sym[] = {"
    od -An -v -tx1 "$in" | sed -e 's/  */ /g' -e 's/^ //' -e '/^$/d' \
        -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo "0x00 };"
    echo "const size_t ${sym}_len = sizeof($sym) - 1;"
} > "$tmp"
mv "$tmp" "$out"
