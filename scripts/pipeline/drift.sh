#!/usr/bin/env bash
# Drift stage (schedule): a preview with refresh that changes nothing, and the fleet report.
#
#   scripts/pipeline/drift.sh STACK OUTDIR
#
# `pulumi preview --json --refresh --show-sames --stack STACK` with the stack's current config reads every host
# (the project sets `refresh: always`), changes nothing, and writes
#   OUTDIR/fleet-report.json, fleet-report.md, fleet-report.xml (JUnit)   per host: converged, drifted (changed
#                         by hand, or not converged to the stack config) or unreachable, with the cause, Docker
#                         version, daemon.json and policy hashes, plugin, ID range and the CIS section 2 rows
#   OUTDIR/digest.md      the fleet digest of what the next apply would do (it repairs the drift)
#   OUTDIR/preview.json   the preview, secrets scrubbed
# Exit: 0 every host converged, 4 a host drifted, is unreachable or is not converged (each is named on stderr),
# 1 the preview failed, 2 usage.
export STAGE=drift # the name lib.sh puts before every line
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stack_and_outdir "$@"
pipeline_init

say "pulumi preview --json --refresh --show-sames --stack $STACK (changes nothing)"
pipeline_preview "$WORK/preview.json" --show-sames || die "no report: the preview failed"
hdh_node drift "$WORK/preview.json" "$OUT" "$STACK"
