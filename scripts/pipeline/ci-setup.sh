#!/usr/bin/env bash
# What the pipeline stages need on a CI runner: the npm packages (with Node.js 22 from the npm registry), the
# compiled component (dist/, which the dynamic providers load), the Go-built pulumi and opa (cached in
# ~/.cache/hardened-docker-host: cache that folder between runs) and our language host and dynamic-provider
# launcher in Pulumi's plugin folder. Not the Debian packages of the local fleet (docker.io, sshd, ...): CI
# reaches real hosts over SSH. Needs Go 1.22+ on PATH the first time (to build pulumi and opa).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ci-setup: npm ci" >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  npm rebuild node --loglevel=error >/dev/null
fi
# shellcheck source=../env.sh
source scripts/env.sh
bash scripts/toolchain.sh pulumi
bash scripts/toolchain.sh opa
bash scripts/toolchain.sh plugins
if grep -q '"build"' package.json && [ -f tsconfig.build.json ]; then npm run --silent build; fi
echo "ci-setup: $(pulumi version), $(opa version | head -1), node $(node --version)" >&2
