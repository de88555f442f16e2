#!/bin/sh
# Formats every C++ file of the tree with the committed .clang-format.
#   scripts/format.sh           rewrite the files in place
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 if any do
set -eu
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$format" ]; then
    echo "format.sh: clang-format is not installed (Debian package clang-format-14)" >&2
    exit 2
fi
files=$(git ls-files '*.hpp' '*.cpp' '*.h')
if [ "${1:-}" = "--check" ]; then
    differ=0
    for f in $files; do
        if ! "$format" --style=file "$f" | cmp -s - "$f"; then
            echo "not formatted: $f"
            differ=1
        fi
    done
    exit $differ
fi
# shellcheck disable=SC2086
"$format" --style=file -i $files
