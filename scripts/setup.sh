#!/usr/bin/env bash
# Install everything a fresh Debian 12 machine lacks to build and test Sluice.
# Idempotent: packages already present and a verified DuckDB are left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

PKGS="build-essential cmake pkg-config libsqlite3-dev libpcre2-dev libjansson-dev
libyaml-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev libssl-dev libcmocka-dev
sqlite3 jq time valgrind gzip zstd python3"
# npm: only from Debian when the machine has none (a Node.js install may ship its own)
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

# --fuzz: also the libFuzzer toolchain (clang 14 and its runtime);
# --bench: also the benchmark peers and tools (simdjson, g++, python3);
# --clickhouse: also Debian's ClickHouse server and client (18.16), which the
#   ClickHouse tests and benchmarks start themselves on loopback ports
case "${1:-}" in
--fuzz) PKGS="$PKGS clang-14 libclang-rt-14-dev" ;;
--bench) PKGS="$PKGS libsimdjson-dev g++ python3" ;;
--clickhouse) PKGS="$PKGS clickhouse-server clickhouse-client python3" ;;
esac

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
    case "$missing" in
    *clickhouse-server*)
        # the package starts its own server where systemd runs; the tests
        # start private ones, so nothing is left running (or enabled) here
        if command -v systemctl >/dev/null 2>&1 &&
            systemctl is-active --quiet clickhouse-server 2>/dev/null; then
            $SUDO systemctl disable --now clickhouse-server >/dev/null 2>&1 || true
            echo "setup: stopped and disabled the packaged clickhouse-server service"
        fi ;;
    esac
fi

"$here/scripts/fetch-duckdb.sh"
