#!/usr/bin/env bash
# The whole test suite (what CI runs): set up, bring up the fleet, then policy, plugin, unit and end-to-end tests.
# The tests make and remove stacks: always in this clone's own backend and Pulumi home, with its passphrase
# (env.sh), never in ones the caller's environment names, such as a team backend.
unset PULUMI_BACKEND_URL PULUMI_HOME PULUMI_CONFIG_PASSPHRASE PULUMI_CONFIG_PASSPHRASE_FILE
source "$(dirname "$0")/prepare.sh"
results=$(mktemp -d)
# Nothing left running: the fleet, and the backend suite's PostgreSQL (its port stays remembered in this clone).
trap 'bash scripts/fleet.sh down; bash scripts/backend/postgres.sh stop >/dev/null; rm -rf "$results"' EXIT
bash scripts/lint-policy.sh
shellcheck -S warning scripts/*.sh scripts/pipeline/*.sh scripts/backend/*.sh plugin/*.sh components/host/sh/*.sh
(cd plugin && go test ./...)
tsc -p tsconfig.json --noEmit
jest --selectProjects unit --json --outputFile="$results/unit.json"
jest --selectProjects e2e --runInBand --testTimeout=1200000 --json --outputFile="$results/e2e.json"
node -e 'const r = process.argv.slice(1).map((f) => require(f));
  const n = (k) => r.reduce((s, x) => s + x[k], 0);
  console.log(`jest: ${n("numPassedTests")} passed, ${n("numFailedTests")} failed`);' \
  "$results/unit.json" "$results/e2e.json"
