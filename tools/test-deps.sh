#!/usr/bin/env bash
# The system packages the test suite uses beyond Python: ser2net (the RFC 2217 remote-port test),
# socat (the pass-through baseline of the benchmarks) and chromium (the HTML migration report,
# checked in a real headless browser).  Installs only what is missing, from
# Debian's archive; without apt-get or root, says so and lets the tests that need them skip.
set -euo pipefail
missing=()
command -v ser2net >/dev/null || missing+=(ser2net)
command -v socat >/dev/null || missing+=(socat)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "test-deps: no apt-get; install ${missing[*]} by hand (their tests skip meanwhile)" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || echo "test-deps: could not install ${missing[*]} (their tests skip)" >&2
