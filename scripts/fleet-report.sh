#!/usr/bin/env bash
# The fleet consistency report of a stack (see components/cli/fleetReport.ts): npm run fleet:report -- --stack S
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$HDH_ROOT"
TS_NODE_TRANSPILE_ONLY=true exec node -r ts-node/register components/cli/fleetReport.ts "$@"
