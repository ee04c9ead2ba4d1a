#!/usr/bin/env bash
# What `make bench` needs beyond scripts/bootstrap.sh: wrk, the HTTP load generator for the
# single-POST ingest rate (a C program: it leaves the two cores to the services it measures).
# Idempotent: apt is only touched when wrk is missing.
set -euo pipefail

log() { printf 'bench setup: %s\n' "$*" >&2; }

if command -v wrk >/dev/null; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
else
    command -v sudo >/dev/null || { log "not root and no sudo: cannot install wrk"; exit 1; }
    SUDO=(sudo)
fi
log "installing wrk"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk
command -v wrk >/dev/null || { log "apt-get installed wrk, but it is not on PATH"; exit 1; }
