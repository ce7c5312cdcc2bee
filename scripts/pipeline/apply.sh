#!/usr/bin/env bash
# Apply stage (main branch): `pulumi up` only if a fresh preview still plans exactly what was reviewed.
#
#   scripts/pipeline/apply.sh STACK REVIEWED_FINGERPRINT_FILE [OUTDIR]
#
# REVIEWED_FINGERPRINT_FILE is the review stage's OUTDIR/fingerprint (with plan.json beside it, to explain a
# difference). A fresh preview (with refresh) is fingerprinted the same way; if the fingerprints differ, nothing
# is applied and the stage says what changed since the review (a host drifted, a config changed, a host became
# unreachable) and exits 3. Otherwise `pulumi up --yes --skip-preview --refresh` runs with
# PULUMI_CONTINUE_ON_ERROR=true, so one host that fails never stops the others (the fleet's rollout gates still
# halt later batches), through scripts/backend/lock.sh when it exists (a stack locked by another run fails fast,
# naming the holder and the lock's age). OUTDIR, if given, gets the fresh preview's digest.md, fingerprint,
# plan.json and preview.json.
# Exit: 0 applied, 3 the plan changed since the review, otherwise the failure of the preview or of `pulumi up`
# (75/76: the stack is locked / a stale lock, see scripts/backend/lock.sh).
export STAGE=apply # the name lib.sh puts before every line
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: apply.sh STACK REVIEWED_FINGERPRINT_FILE [OUTDIR]" >&2; exit 2; }
STACK=$1
[ -r "$2" ] || { echo "apply: cannot read the reviewed fingerprint $2" >&2; exit 2; }
REVIEWED=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
OUT=()
if [ $# -eq 3 ]; then mkdir -p "$3"; OUT=("$(cd "$3" && pwd)"); fi
pipeline_init

say "fresh preview of stack $STACK, to compare with the review"
pipeline_preview "$WORK/fresh.json" || die "nothing applied: the fresh preview failed"
rc=0
hdh_node compare "$REVIEWED" "$WORK/fresh.json" ${OUT[@]+"${OUT[@]}"} || rc=$?
[ $rc -eq 0 ] || exit $rc

export PULUMI_CONTINUE_ON_ERROR=true
up=(pulumi up --yes --skip-preview --refresh --non-interactive --stack "$STACK")
[ -f "$HDH_ROOT/scripts/backend/lock.sh" ] && up=(bash "$HDH_ROOT/scripts/backend/lock.sh" run -- "${up[@]}")
say "pulumi up --yes --skip-preview --refresh --stack $STACK (PULUMI_CONTINUE_ON_ERROR=true)"
set +e
(cd "$PROJECT_DIR" && "${up[@]}") 2>&1 | scrub
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  case $rc in
    75|76) say "stack $STACK is locked by another run (see above): nothing applied" ;;
    *) say "pulumi up of stack $STACK failed (exit $rc): the hosts it names above are not converged" ;;
  esac
  exit "$rc"
fi
say "applied the reviewed plan to stack $STACK"
