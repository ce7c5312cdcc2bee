#!/usr/bin/env bash
# Runs our policy pack (policypack/) against a stack's preview: `pulumi preview --policy-pack policypack`.
# Mandatory violations fail the preview (exit 1) and are listed at the end with the rule's message; advisory
# ones (Docker older than the floor) are listed but pass.
#
#   scripts/pipeline/policy-pack.sh --stack NAME [--cwd PROJECT_DIR] [--config PACK_CONFIG.json] [-- PREVIEW_ARGS...]
#
# --config: the pack's config, e.g. {"docker-version-floor": {"minimumVersion": "24.0.0"}}.
# The backend and passphrase come from the environment (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE[_FILE]),
# as for every pipeline stage; scripts/env.sh fills in the local defaults. Installs the pack's dependencies
# (policypack/node_modules) when they are missing.
# Exit: 0 compliant (advisories allowed), 1 blocked by mandatory policies or the preview failed, 2 usage.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PACK="$ROOT/policypack"
# shellcheck source=../env.sh
source "$ROOT/scripts/env.sh"

die() { echo "policy-pack: $*" >&2; exit 2; }
stack="" cwd="$ROOT" config="" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stack|-s) stack=${2:-}; shift 2 ;;
    --cwd|-C) cwd=${2:-}; shift 2 ;;
    --config) config=${2:-}; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown argument '$1'" \
         "(usage: policy-pack.sh --stack NAME [--cwd DIR] [--config FILE] [-- PREVIEW_ARGS...])" ;;
  esac
done
[ -n "$stack" ] || die "--stack is required"
[ -f "$cwd/Pulumi.yaml" ] || die "no Pulumi.yaml in $cwd"
[ -z "$config" ] || [ -f "$config" ] || die "no pack config file $config"

if [ ! -d "$PACK/node_modules/@pulumi/policy" ] \
  || [ "$PACK/package-lock.json" -nt "$PACK/node_modules/.package-lock.json" ]; then
  echo "policy-pack: installing the pack's dependencies (npm ci in policypack/)" >&2
  (cd "$PACK" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci in policypack/ failed"
fi

args=(preview --stack "$stack" --policy-pack "$PACK" --non-interactive --color never)
[ -n "$config" ] && args+=(--policy-pack-config "$config")
out=$(mktemp); trap 'rm -f "$out"' EXIT
(cd "$cwd" && pulumi "${args[@]}" "${extra[@]}") 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

# One line per violation: "[level] rule: message" (from the CLI's Policies section).
summary=$(awk '
  /^Policies:/ { inp = 1; next }
  inp && /^[A-Z][a-z]+:/ { inp = 0 }
  inp && /- \[(mandatory|advisory|remediate)\]/ { match($0, /\[[a-z]+\]/); lvl = substr($0, RSTART, RLENGTH);
      split(substr($0, RSTART + RLENGTH), w, " "); rule = w[1]; state = 1; next }
  inp && state == 1 { state = 2; next }                      # the rule description
  inp && state == 2 { sub(/^ +/, ""); print lvl " " rule ": " $0; state = 0 }
' "$out")
mandatory=$(printf '%s\n' "$summary" | grep -c '^\[mandatory\]' || true)
advisory=$(printf '%s\n' "$summary" | grep -c '^\[advisory\]' || true)
if [ -n "$summary" ]; then
  echo >&2
  echo "policy-pack: $mandatory mandatory, $advisory advisory violation(s) on stack $stack:" >&2
  printf '%s\n' "$summary" | sed 's/^/  /' >&2
fi
if [ "$rc" != 0 ]; then
  [ "$mandatory" -gt 0 ] && echo "policy-pack: blocked by mandatory policies" >&2 \
    || echo "policy-pack: the preview failed (exit $rc)" >&2
  exit 1
fi
echo "policy-pack: stack $stack complies$([ "$advisory" -gt 0 ] && echo " (with $advisory advisory)")" >&2
