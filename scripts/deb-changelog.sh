#!/bin/sh
# deb-changelog.sh [VERSION-FILE [CONTROL]]: prints debian/changelog for the
# version in VERSION (the one place the project's version is written), with
# the source name and maintainer of debian/control.  The date is
# SOURCE_DATE_EPOCH, else the last commit's, else now: rebuilding the same
# tree gives the same changelog.
set -eu

version_file=${1:-VERSION}
control=${2:-debian/control}

version=$(tr -d ' \t\r\n' < "$version_file")
case $version in
    [0-9]*) ;;
    *) echo "deb-changelog: $version_file: bad version '$version'" >&2; exit 2 ;;
esac

field() {
    sed -n "s/^$1:[[:space:]]*//p" "$control" | head -n 1
}

source=$(field Source)
maintainer=$(field Maintainer)

epoch=${SOURCE_DATE_EPOCH:-}
if [ -z "$epoch" ]; then
    epoch=$(git -C "$(dirname "$version_file")" log -1 --format=%ct 2>/dev/null \
            || true)
fi
[ -n "$epoch" ] || epoch=$(date +%s)

cat <<CHANGELOG
$source ($version) unstable; urgency=medium

  * ngx_rbac $version: the nginx module and rbacctl, built from the
    project's tree (version from its VERSION file).

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$epoch")
CHANGELOG
