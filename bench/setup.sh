#!/usr/bin/env bash
# Install the bench-only tools a Debian 12 machine may lack (idempotent):
# libsimdjson-dev (the simdjson peer), g++, jq, time (/usr/bin/time -v for peak RSS),
# valgrind (the callgrind profile) and gzip. Not needed by `make build` or `make test`.
set -euo pipefail

PKGS="libsimdjson-dev g++ jq time valgrind gzip python3"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "bench/setup: installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086  # $missing is a word list
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
