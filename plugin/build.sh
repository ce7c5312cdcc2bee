#!/usr/bin/env bash
# Builds the plugin: a static opa-authz binary (CGO off) and the folder that
# `docker plugin create NAME plugin/dist/opa-authz` takes:
#   dist/opa-authz/config.json   the plugin's config (config.json beside this script)
#   dist/opa-authz/rootfs/       the binary and the few empty folders it needs
# Env: GOARCH (default: this machine's), PLUGIN_DIST (default: plugin/dist).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
dist=${PLUGIN_DIST:-$here/dist}/opa-authz
rootfs=$dist/rootfs

rm -rf "$dist"
mkdir -p "$rootfs"
( cd "$here" && CGO_ENABLED=0 GOOS=linux go build -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$rootfs/opa-authz" ./cmd/opa-authz )

# Mount points and the socket folder; runc would create most of them, but
# the rootfs states them so that it works read-only too. /etc/hosts and
# /etc/resolv.conf are bind targets the daemon adds when a network type is set.
mkdir -p "$rootfs"/{dev,proc,sys,etc,tmp,run/docker/plugins,opa/policies}
: > "$rootfs/etc/hosts"
: > "$rootfs/etc/resolv.conf"
chmod 1777 "$rootfs/tmp"
cp "$here/config.json" "$dist/config.json"

size=$(du -sk "$rootfs" | cut -f1)
echo "built $dist (version $version, rootfs ${size} KiB)" >&2
