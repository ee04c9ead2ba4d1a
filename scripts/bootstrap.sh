#!/usr/bin/env bash
# Installs what UdaConnect's local run and tests need on a fresh Debian/Ubuntu machine:
# PostgreSQL + PostGIS 3, a JDK >= 17, Maven, uv, Node.js >= 20.19 with npm (the front end's build),
# and the Kafka broker jars (infra/kafka/libs). With --browser also Chromium, which the front end's
# end-to-end tests drive (make test). With --unit only uv, Node.js and a C compiler (make unit).
# Idempotent and quick when everything is already there: apt is only touched when something is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION=0.13.8
MIN_JAVA=17
# Vite 8 needs Node.js 20.19 (or 22.12) or newer.
MIN_NODE=20.19

WITH_BROWSER=0
UNIT_ONLY=0
for arg in "$@"; do
    case $arg in
        --browser) WITH_BROWSER=1 ;;
        --unit) UNIT_ONLY=1 ;;  # what the unit tests need: uv and Node.js, no apt for servers
        *) printf 'usage: %s [--browser] [--unit]\n' "$0" >&2; exit 2 ;;
    esac
done

log() { printf 'bootstrap: %s\n' "$*" >&2; }

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
else
    command -v sudo >/dev/null || { log "not root and no sudo: cannot install system packages"; exit 1; }
    SUDO=(sudo)
fi

APT_UPDATED=0
apt_update_once() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        "${SUDO[@]}" apt-get update -qq
        APT_UPDATED=1
    fi
}

# Candidate version of a package, or empty when apt does not know it.
apt_candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2 }'
}

apt_has() { [[ -n $(apt_candidate "$1") ]]; }

PKGS=()
PG_MAJOR=""

if [[ $UNIT_ONLY -eq 0 ]]; then  # the servers the integration tests and make up run
# --- PostgreSQL + PostGIS ------------------------------------------------------------------------

# Major version of the newest installed server, else empty.
installed_pg_major() {
    local dir best=""
    for dir in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x $dir ]] || continue
        dir=${dir#/usr/lib/postgresql/}
        dir=${dir%%/*}
        if [[ $dir =~ ^[0-9]+$ ]] && { [[ -z $best ]] || ((dir > best)); }; then best=$dir; fi
    done
    printf '%s' "$best"
}

PG_MAJOR=$(installed_pg_major)
if [[ -z $PG_MAJOR ]]; then
    apt_update_once
    # The "postgresql" metapackage's version is "<major>+<distro rev>", e.g. 15+248.
    candidate=$(apt_candidate postgresql)
    [[ -n $candidate ]] || { log "apt has no postgresql package"; exit 1; }
    PG_MAJOR=${candidate%%+*}
    PG_MAJOR=${PG_MAJOR#*:}
fi
[[ $PG_MAJOR =~ ^[0-9]+$ ]] || { log "cannot tell the PostgreSQL major version (got '$PG_MAJOR')"; exit 1; }

EXT_DIR=/usr/share/postgresql/$PG_MAJOR/extension
[[ -x /usr/lib/postgresql/$PG_MAJOR/bin/postgres ]] || PKGS+=("postgresql-$PG_MAJOR")
[[ -f $EXT_DIR/postgis.control ]] || PKGS+=("postgresql-$PG_MAJOR-postgis-3")
if [[ ! -f $EXT_DIR/btree_gist.control ]]; then
    # Part of postgresql-<N> on current Debian/Ubuntu; a separate contrib package on older ones.
    apt_update_once
    if apt_has "postgresql-contrib-$PG_MAJOR"; then
        PKGS+=("postgresql-contrib-$PG_MAJOR")
    elif [[ " ${PKGS[*]} " != *" postgresql-$PG_MAJOR "* ]]; then
        PKGS+=(postgresql-contrib)
    fi
fi

# --- Java >= 17 and Maven ------------------------------------------------------------------------

java_major() {
    local version
    version=$("$1" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')
    [[ $version == 1.* ]] && version=${version#1.}
    printf '%s' "${version%%[.+-]*}"
}

have_java=0
for java in "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    if [[ -n $java && -x $java ]]; then
        major=$(java_major "$java")
        if [[ $major =~ ^[0-9]+$ ]] && ((major >= MIN_JAVA)); then have_java=1; break; fi
    fi
done
if [[ $have_java -eq 0 ]]; then
    apt_update_once
    jdk=""
    default_version=$(apt_candidate default-jdk-headless)  # e.g. 2:1.17-74 (Debian 12), 2:1.21-75 (Ubuntu 24.04)
    default_major=${default_version#*:1.}
    default_major=${default_major%%[-+.]*}
    if [[ $default_major =~ ^[0-9]+$ ]] && ((default_major >= MIN_JAVA)); then
        jdk=default-jdk-headless
    else
        for candidate in openjdk-21-jdk-headless openjdk-17-jdk-headless; do
            if apt_has "$candidate"; then jdk=$candidate; break; fi
        done
    fi
    [[ -n $jdk ]] || { log "apt offers no JDK >= $MIN_JAVA"; exit 1; }
    PKGS+=("$jdk")
fi
command -v mvn >/dev/null || PKGS+=(maven)

fi  # UNIT_ONLY

# --- Node.js and npm (the front end), Chromium (its browser tests) ---------------------------------

command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
if [[ $WITH_BROWSER -eq 1 ]] && [[ ! -x /usr/bin/chromium ]]; then
    PKGS+=(chromium fonts-liberation)
fi

# A C compiler and Python's headers: connection-api's contacts kernel is Cython, compiled when uv installs it.
command -v cc >/dev/null || PKGS+=(gcc libc6-dev)
if ! python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    PKGS+=(python3-dev)
fi

# uv comes from PyPI; make sure pip is there to fetch it.
if ! command -v uv >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
    PKGS+=(python3-pip)
fi

if ((${#PKGS[@]} > 0)); then
    apt_update_once
    if [[ " ${PKGS[*]} " == *" postgresql-$PG_MAJOR "* ]]; then
        # Debian's package would create and start a system cluster on port 5432; we run our own
        # clusters from the repo (make up / tests), so skip it before it is created.
        "${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" |
            "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/udaconnect-no-main-cluster.conf >/dev/null
    fi
    log "installing: ${PKGS[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
fi

node_version=$(node --version 2>/dev/null || true)
node_version=${node_version#v}
if [[ -z $node_version ]] || [[ $(printf '%s\n%s\n' "$MIN_NODE" "$node_version" | sort -V | head -1) != "$MIN_NODE" ]]; then
    log "Node.js ${node_version:-(none)} is older than $MIN_NODE, which the front end's build needs;"
    log "install a newer one (for instance from NodeSource or nvm) and run this again"
    exit 1
fi

# --- uv --------------------------------------------------------------------------------------------

if ! command -v uv >/dev/null; then
    log "installing uv $UV_VERSION with pip"
    pip_args=(install --quiet "uv==$UV_VERSION")
    [[ $(id -u) -eq 0 ]] || pip_args+=(--user)
    # Debian/Ubuntu mark the system Python externally managed (PEP 668). uv is a single static
    # binary with no Python dependencies, so installing it there cannot break system packages.
    if compgen -G "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" >/dev/null; then
        pip_args+=(--break-system-packages)
    fi
    python3 -m pip "${pip_args[@]}"
    command -v uv >/dev/null || log "uv installed, but not on PATH (add ~/.local/bin to PATH)"
fi

if [[ $UNIT_ONLY -eq 1 ]]; then
    log "ok (uv, Node.js $node_version; --unit: no database, JDK or Kafka)"
    exit 0
fi

# --- Kafka broker jars -----------------------------------------------------------------------------

# The version the pom asks for: after it changes, the old version's jars are removed first (two versions
# on one class path would mix).
kafka_version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' infra/kafka/pom.xml)
if [[ ! -f "infra/kafka/libs/kafka_2.13-$kafka_version.jar" ]]; then
    log "fetching Kafka $kafka_version broker jars with Maven (infra/kafka/libs)"
    rm -rf infra/kafka/libs
    (cd infra/kafka && mvn -B -q -Dstyle.color=never package)
    [[ -f "infra/kafka/libs/kafka_2.13-$kafka_version.jar" ]] || { log "Maven ran but infra/kafka/libs has no Kafka $kafka_version jar"; exit 1; }
fi

log "ok (PostgreSQL $PG_MAJOR with PostGIS, Java >= $MIN_JAVA, Maven, uv, Node.js $node_version, Kafka $kafka_version jars$([[ $WITH_BROWSER -eq 1 ]] && echo ', Chromium'))"
