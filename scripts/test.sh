#!/usr/bin/env bash
# The whole test suite (what CI runs): set up, bring up the fleet, then policy, plugin, unit and end-to-end tests.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
source scripts/env.sh
bash scripts/fleet.sh up "${HDH_FLEET_SIZE:-3}"
trap 'bash scripts/fleet.sh down' EXIT
[ -x scripts/lint-policy.sh ] && bash scripts/lint-policy.sh
[ -f plugin/go.mod ] && (cd plugin && go test ./...)
tsc -p tsconfig.json --noEmit
jest --selectProjects unit --passWithNoTests
jest --selectProjects e2e --runInBand --testTimeout=1200000
