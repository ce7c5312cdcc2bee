# shellcheck shell=bash
# Sourced by every project script: the project's tools first on PATH, and Pulumi kept offline and local.
HDH_ROOT=${HDH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH="$HDH_ROOT/.tools/bin:$HDH_ROOT/node_modules/.bin:$PATH"
export PULUMI_HOME=${PULUMI_HOME:-$HDH_ROOT/.state/pulumi-home}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HDH_ROOT/.state/backend}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-local-demo-passphrase}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_SKIP_CONFIRMATIONS=true
# A fleet goes on past a failed host: its rollout gates decide what may still run (README: Fleets).
export PULUMI_CONTINUE_ON_ERROR=${PULUMI_CONTINUE_ON_ERROR:-true}
# Steps wait on SSH and on the hosts, not on this machine's CPU: the CLI's default (4 per core) would queue a
# fleet's reads and hold back hosts of one batch (README: Rollout).
export PULUMI_PARALLEL=${PULUMI_PARALLEL:-64}
# The CLI keeps a debug log of every command in $PULUMI_HOME/logs (about 1 MB per host and run): 100 MB of it is
# plenty here (its default is 500 MB).
export PULUMI_LOG_ROTATION_MAX_TOTAL_MB=${PULUMI_LOG_ROTATION_MAX_TOTAL_MB:-100}
mkdir -p "$HDH_ROOT/.state/backend" "$PULUMI_HOME"
