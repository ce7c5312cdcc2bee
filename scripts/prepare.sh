# shellcheck shell=bash
# Sourced by demo.sh and test.sh: set everything up, put our tools on PATH, bring up the local fleet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/fleet.sh up "${HDH_FLEET_SIZE:-6}"
