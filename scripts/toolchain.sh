#!/usr/bin/env bash
# Builds (once) and caches the tools the project runs: the Pulumi CLI and opa from their Go modules,
# our language host and dynamic-provider launcher in Pulumi's plugin folder, and the Debian packages the fleet needs.
# Idempotent: a second run with a warm cache only checks versions.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PULUMI_VERSION=${PULUMI_VERSION:-v3.259.0}
OPA_VERSION=${OPA_VERSION:-v1.22.3}
# Binaries are cached per machine (outside the clone) so CI's fresh clones reuse them; .tools/bin links to them.
CACHE=${HDH_TOOL_CACHE:-$HOME/.cache/hardened-docker-host}
BIN="$ROOT/.tools/bin"
mkdir -p "$CACHE" "$BIN"

fail() { echo "toolchain: $1: $2" >&2; exit 1; }
step() { echo "toolchain: $*" >&2; }

debian_packages() {
  local pkgs=(docker.io openssh-server openssh-client socat iproute2 uidmap docker-registry busybox-static util-linux
    procps psmisc sudo curl shellcheck)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || fail apt-get "apt-get update failed"
  # policy-rc.d keeps Debian from starting the machine-wide dockerd/sshd/registry: the fleet runs its own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { rm -f /usr/sbin/policy-rc.d; fail apt-get "could not install ${missing[*]}"; }
  rm -f /usr/sbin/policy-rc.d
}

# The Go the plugin's module names (plugin/go.mod; opa needs as much): an older go fails later, or fetches one.
go_toolchain() {
  local v min
  min=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$ROOT/plugin/go.mod")
  v=$(go env GOVERSION 2>/dev/null) || fail go "no go on PATH: install Go $min or later (https://go.dev/dl)"
  v=${v#go}
  [ "$(printf '%s\n%s\n' "$v" "$min" | sort -V | head -1)" = "$min" ] \
    || fail go "Go $v is too old: the plugin (plugin/go.mod) and opa need Go $min or later"
}

pulumi_cli() {
  local out="$CACHE/pulumi-$PULUMI_VERSION"
  if [ ! -x "$out/pulumi" ]; then
    step "building pulumi $PULUMI_VERSION from its Go module (cold: ~4 min)"
    local mod="$CACHE/pulumi-build-$PULUMI_VERSION"
    mkdir -p "$mod"
    ( cd "$mod"
      [ -f go.mod ] || go mod init hdh/pulumi-build >/dev/null 2>&1
      go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
      go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" \
        "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" >/dev/null 2>go-get.log \
        || { tail -5 go-get.log >&2; exit 1; }
      CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
        -o "$out.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>build.log \
        || { tail -20 build.log >&2; exit 1; }
    ) || fail pulumi "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION failed"
    mv "$out.tmp" "$out"
  fi
  ln -sf "$out/pulumi" "$BIN/pulumi"
}

opa_cli() {
  local out="$CACHE/opa-$OPA_VERSION"
  if [ ! -x "$out/opa" ]; then
    step "building opa $OPA_VERSION from its Go module (cold: ~80 s)"
    mkdir -p "$out.tmp"
    GOBIN="$out.tmp" CGO_ENABLED=0 go install "github.com/open-policy-agent/opa@$OPA_VERSION" \
      || fail opa "go install github.com/open-policy-agent/opa@$OPA_VERSION failed"
    mv "$out.tmp" "$out"
  fi
  ln -sf "$out/opa" "$BIN/opa"
}

# The language host and dynamic-provider launcher are ours (the official ones cannot be fetched here). They go
# where the CLI looks for installed plugins, laid out as `pulumi plugin install` does:
# $PULUMI_HOME/plugins/<kind>-<name>-v<version>/pulumi-<kind>-<name> (links to scripts/, so they stay current).
# Nothing of ours is on PATH: a plugin found on PATH makes the CLI warn "using ... from $PATH" on every run.
# The CLI looks on PATH first, then beside its own binary, then in the plugin folder (GetPluginPath in
# sdk/go/common/workspace/plugins.go); the binary's folder is the machine-wide cache, shared by clones.
pulumi_plugins() {
  local home=${PULUMI_HOME:-$ROOT/.state/pulumi-home}
  local version plugins kind name dir
  version=$(node -p "require('$ROOT/node_modules/@pulumi/pulumi/package.json').version" 2>/dev/null) \
    || fail plugins "node_modules/@pulumi/pulumi is missing: run npm run setup"
  plugins="$home/plugins"
  mkdir -p "$plugins"
  for kind_name in language:nodejs resource:pulumi-nodejs; do
    kind=${kind_name%%:*} name=${kind_name#*:}
    # Ours from another SDK version: replaced (the CLI would pick the highest version).
    for old in "$plugins/$kind-$name-v"*; do
      if [ "$old" != "$plugins/$kind-$name-v$version" ] && [ -L "$old/pulumi-$kind-$name" ] \
        && [ "$(readlink "$old/pulumi-$kind-$name")" = "$ROOT/scripts/pulumi-$kind-$name" ]; then
        rm -rf "$old" "$old.lastused"
      fi
    done
    dir="$plugins/$kind-$name-v$version"
    mkdir -p "$dir"
    ln -sfn "$ROOT/scripts/pulumi-$kind-$name" "$dir/pulumi-$kind-$name"
    rm -f "$dir.partial"
  done
  # Earlier setups linked them beside the CLI on PATH; the node link stays (scripts run our Node.js 22).
  rm -f "$BIN/pulumi-language-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
  ln -sf "$ROOT/node_modules/.bin/node" "$BIN/node"
}

what=${1:-all}
case "$what" in
  debian) debian_packages ;;
  pulumi) go_toolchain; pulumi_cli ;;
  opa) go_toolchain; opa_cli ;;
  plugins) pulumi_plugins ;;
  all) debian_packages; go_toolchain; pulumi_cli; opa_cli; pulumi_plugins ;;
  *) fail toolchain "unknown step '$what' (debian|pulumi|opa|plugins|all)" ;;
esac
