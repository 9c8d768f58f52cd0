#!/usr/bin/env bash
# Fetch DuckDB 1.4.4 (library and header) from the npm registry into third_party/duckdb,
# verifying the tarballs' sha256. Skipped when DUCKDB_HOME names an official release.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/third_party/duckdb"

if [ -n "${DUCKDB_HOME:-}" ]; then
    [ -f "$DUCKDB_HOME/duckdb.h" ] && [ -f "$DUCKDB_HOME/libduckdb.so" ] || {
        echo "fetch-duckdb: DUCKDB_HOME=$DUCKDB_HOME lacks duckdb.h or libduckdb.so" >&2; exit 1; }
    echo "fetch-duckdb: using DUCKDB_HOME=$DUCKDB_HOME"; exit 0
fi
if [ -f "$dest/.verified-1.4.4" ]; then exit 0; fi

LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_SHA=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b
HDR_PKG="duckdb@1.4.4"
HDR_SHA=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for spec in "$LIB_PKG $LIB_SHA" "$HDR_PKG $HDR_SHA"; do
    set -- $spec
    tgz=$(npm pack --silent "$1" | tail -n 1)
    got=$(sha256sum "$tgz" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then
        echo "fetch-duckdb: checksum mismatch for $1: got $got, want $2" >&2; exit 1
    fi
    mkdir -p "x-$1" && tar -xzf "$tgz" -C "x-$1"
done
rm -rf "$dest"; mkdir -p "$dest"
lib=$(find "x-$LIB_PKG" -name 'libduckdb.so' | head -n 1)
cp "$lib" "$dest/libduckdb.so"
cp "x-$HDR_PKG/package/src/duckdb/src/include/duckdb.h" "$dest/duckdb.h"
touch "$dest/.verified-1.4.4"
echo "fetch-duckdb: DuckDB 1.4.4 ready in $dest"
