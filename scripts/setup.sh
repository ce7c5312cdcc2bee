#!/usr/bin/env bash
# Everything the project needs on this machine, idempotently: Debian packages, npm packages (with Node.js 22
# from the npm registry), the package build (dist/), the Go-built pulumi and opa, our language host and provider
# launcher in Pulumi's plugin folder ($PULUMI_HOME/plugins), the plugin image.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
start=$(date +%s)
bash scripts/toolchain.sh debian
# Install scripts stay off (@pulumi/command's would try to download its provider); only `node` needs its own.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null \
    || { echo "setup: npm: npm ci failed" >&2; exit 1; }
  npm rebuild node --loglevel=error >/dev/null \
    || { echo "setup: npm: installing Node.js 22 (npm package node) failed" >&2; exit 1; }
fi
node_modules/.bin/node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)' \
  || { echo "setup: node: node_modules/.bin/node is not Node.js 22+" >&2; exit 1; }
# The policy pack (policypack/) has its own package.json and lockfile (@pulumi/policy); install scripts off too.
if [ ! -d policypack/node_modules/@pulumi/policy ] \
  || [ policypack/package-lock.json -nt policypack/node_modules/.package-lock.json ]; then
  echo "setup: npm ci (policypack)" >&2
  (cd policypack && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || { echo "setup: npm: npm ci in policypack/ failed" >&2; exit 1; }
fi
# Debian's PostgreSQL, for the team state backend of the pipeline tests (no cluster is started here).
bash scripts/backend/postgres.sh install
# The package build (dist/): dynamic providers run compiled JavaScript, here as in the npm package (~2 s).
npm run build --silent || {
  echo "setup: build: tsc -p tsconfig.build.json failed (see above). Fix: correct the type errors in components/" >&2
  exit 1
}
# Then the tools, and our language host and provider launcher in Pulumi's plugin folder.
bash scripts/toolchain.sh all
echo "setup: ready in $(( $(date +%s) - start )) s" >&2
