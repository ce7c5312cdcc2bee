#!/usr/bin/env bash
# The quick start: set everything up, bring up the local fleet and `pulumi up` the dev stack on it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
source scripts/env.sh
bash scripts/fleet.sh up "${HDH_FLEET_SIZE:-3}"
pulumi stack select dev 2>/dev/null || pulumi stack init dev
pulumi up --yes --stack dev
echo
echo "demo: the fleet is hardened. Try: source scripts/env.sh && pulumi preview --diff --stack dev"
