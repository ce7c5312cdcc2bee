#!/usr/bin/env bash
# Check stage (every push): the TypeScript build, the Rego lint and tests, the unit tests and, given a stack,
# the policy pack.
#
#   scripts/pipeline/check.sh [STACK]
#
# Runs every check even when one fails, then names the ones that failed. The policy pack
# (scripts/pipeline/policy-pack.sh, when it exists) previews STACK against the pack, so it runs only when a stack
# is given (it needs the passphrase, backend and SSH key, see scripts/pipeline/lib.sh); without one it is
# skipped here and runs in the review stage.
# Exit: 0 all passed, 1 some failed.
set -euo pipefail
set +x
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
STACK=${1:-}
failed=()
say() { echo "check: $*" >&2; }
run() {
  local name=$1
  shift
  say "$name"
  if "$@"; then say "$name: ok"; else failed+=("$name"); say "$name: FAILED"; fi
}

if [ -n "$STACK" ] && [ -f scripts/pipeline/policy-pack.sh ]; then
  STAGE=check
  source scripts/pipeline/lib.sh
  pipeline_init
else
  # shellcheck source=../env.sh
  source scripts/env.sh
fi

run "tsc" tsc -p tsconfig.json --noEmit
run "Rego lint and tests" bash scripts/lint-policy.sh
run "unit tests" jest --selectProjects unit
if [ ! -f scripts/pipeline/policy-pack.sh ]; then
  say "policy pack: scripts/pipeline/policy-pack.sh is not there: skipped"
elif [ -z "$STACK" ]; then
  say "policy pack: no stack given (check.sh STACK): skipped here, the review stage runs it"
else
  run "policy pack on stack $STACK" pipeline_policy_pack
fi

if [ ${#failed[@]} -gt 0 ]; then
  say "failed: $(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')"
  exit 1
fi
say "all checks passed"
