#!/usr/bin/env bash
# Review stage (pull requests): what merging would do to the fleet, as one digest a reviewer reads in a minute.
#
#   scripts/pipeline/review.sh STACK OUTDIR
#
# Runs the policy pack (scripts/pipeline/policy-pack.sh, when it exists: mandatory violations stop the review
# with the rules' messages), then `pulumi preview --json --diff --refresh --stack STACK`, and writes
#   OUTDIR/digest.md      the fleet digest, for the pull-request comment (under 60,000 characters)
#   OUTDIR/fingerprint    SHA-256 of the planned changes: what the apply stage will accept
#   OUTDIR/plan.json      the planned changes the fingerprint covers (apply explains a difference with it)
#   OUTDIR/preview.json   the full preview, secrets scrubbed and provider internals left out (an artifact)
# Exit: 0 reviewed, 1 the policy pack or the preview failed (nothing written), 2 usage.
# Passphrase, backend and SSH key: see scripts/pipeline/lib.sh.
export STAGE=review # the name lib.sh puts before every line
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stack_and_outdir "$@"
pipeline_init

pipeline_policy_pack || die "blocked by the policy pack (its messages are above); no digest was made"
say "pulumi preview --json --diff --refresh --stack $STACK"
pipeline_preview "$WORK/preview.json" --diff || die "no digest: the preview failed"
hdh_node review "$WORK/preview.json" "$OUT"
