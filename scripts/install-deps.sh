#!/usr/bin/env bash
# install-deps.sh: the Debian packages ngx_rbac builds, tests and runs with.
# Shared by `make run`, CI and the Dockerfile.  Installs only what is missing.
set -euo pipefail

pkgs=(
    build-essential clang pkg-config
    nginx-core nginx-dev libpcre2-dev libssl-dev zlib1g-dev
    libhiredis-dev libjwt-dev libcjson-dev libcmocka-dev
    redis-server redis-sentinel redis-tools
    python3-pytest python3-redis python3-requests python3-jwt
    python3-cryptography
    golang-go golang-github-go-chi-chi-dev golang-github-google-uuid-dev
    valgrind wrk curl openssl iproute2
    debhelper dpkg-dev lintian
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The packaged services are not ours: tests start their own on loopback.
systemctl disable --now redis-server nginx 2>/dev/null || true
