# shellcheck shell=bash
# Sourced by the pipeline stages (review.sh, apply.sh, drift.sh, ssh-key.sh): the project's tools on PATH,
# the stack passphrase from the environment or a file the CI gives, the SSH key files the stack config names,
# a private scratch folder, and a scrubber every output goes through.
#
# Secrets never reach a command line, a trace or an artifact: no `set -x` here or in the stages (it is turned
# off even if the caller set it), the raw preview JSON stays in the private scratch folder (0700, removed on
# exit), and what the stages print passes through `digest.ts scrub`, which replaces the passphrase, the SSH
# keys' content (also line by line), HDH_SECRETS_TO_SCRUB and the backend URL's password with [scrubbed].
#
# Environment:
#   PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE   the stack passphrase (one is required when CI is
#                                 set; elsewhere scripts/env.sh's local demo passphrase is the fallback)
#   PULUMI_BACKEND_URL            the state backend (default: the local file backend of scripts/env.sh)
#   HDH_PROJECT_DIR               the Pulumi project (default: this repository)
#   HDH_SECRETS_TO_SCRUB          more secrets to scrub, one per line
#   HDH_POLICY_PACK=off           review without the policy pack (scripts/pipeline/policy-pack.sh)
#   HDH_POLICY_PACK_CONFIG        the pack's config file, passed to policy-pack.sh --config
set -euo pipefail
set +x

PIPELINE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HDH_ROOT=$(cd "$PIPELINE_DIR/../.." && pwd)
export HDH_ROOT
PROJECT_DIR=$(cd "${HDH_PROJECT_DIR:-$HDH_ROOT}" && pwd)
STAGE=${STAGE:-pipeline}

say() { echo "$STAGE: $*" >&2; }
die() { echo "$STAGE: $*" >&2; exit 1; }

# The passphrase, as the CLI reads it: PULUMI_CONFIG_PASSPHRASE, else the file PULUMI_CONFIG_PASSPHRASE_FILE
# (trimmed, as the CLI trims it). It is exported as PULUMI_CONFIG_PASSPHRASE so scripts that source env.sh
# (which sets a demo default) keep it. An empty variable counts as unset: a CI secret that is not set expands
# to an empty string.
pipeline_passphrase() {
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
    unset PULUMI_CONFIG_PASSPHRASE
    if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      [ -r "$PULUMI_CONFIG_PASSPHRASE_FILE" ] || die "PULUMI_CONFIG_PASSPHRASE_FILE names a file that cannot be read"
      local phrase
      phrase=$(cat "$PULUMI_CONFIG_PASSPHRASE_FILE")
      phrase="${phrase#"${phrase%%[![:space:]]*}"}"
      phrase="${phrase%"${phrase##*[![:space:]]}"}"
      [ -n "$phrase" ] || die "the file PULUMI_CONFIG_PASSPHRASE_FILE names is empty"
      export PULUMI_CONFIG_PASSPHRASE="$phrase"
    elif [ -n "${CI:-}" ]; then
      die "no stack passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE from the CI's secrets"
    else
      say "no PULUMI_CONFIG_PASSPHRASE(_FILE) set: using the local demo passphrase of scripts/env.sh"
    fi
  fi
  # shellcheck source=../env.sh
  source "$HDH_ROOT/scripts/env.sh"
}

# Our TypeScript CLI (digest.ts) on the project's Node.js, through ts-node (transpile only).
hdh_node() {
  local node="$HDH_ROOT/node_modules/.bin/node"
  [ -x "$node" ] || node=node
  TS_NODE_TRANSPILE_ONLY=true TS_NODE_PROJECT="$HDH_ROOT/tsconfig.json" \
    "$node" -r "$HDH_ROOT/node_modules/ts-node/register" "$PIPELINE_DIR/digest.ts" "$@"
}

# Copies stdin to stdout with every secret replaced.
scrub() { hdh_node scrub; }

# The SSH private key files the stack config names (hostDefaults.privateKeyPath, hosts[].privateKeyPath, the
# inventory's keyPath): checked (readable, not readable by others) and added to what the scrubber hides.
pipeline_key_files() {
  local config="$WORK/config.json" files=() f mode
  if ! (cd "$PROJECT_DIR" && pulumi config --json --stack "$STACK" >"$config" 2>"$WORK/config.err"); then
    scrub <"$WORK/config.err" >&2
    die "cannot read the config of stack $STACK (is PULUMI_BACKEND_URL right, and does the stack exist?)"
  fi
  while IFS= read -r f; do [ -n "$f" ] && files+=("$f"); done < <(hdh_node keyfiles "$config" "$PROJECT_DIR")
  for f in ${files[@]+"${files[@]}"}; do
    if [ ! -r "$f" ]; then
      say "warning: the SSH key file $f (from the stack config) cannot be read"
      continue
    fi
    mode=$(stat -c %a "$f" 2>/dev/null || echo 600)
    case $mode in
      ?00) ;;
      *) say "warning: the SSH key file $f is readable by others (mode $mode): chmod 600 it" ;;
    esac
  done
  local IFS=:
  export HDH_SECRET_FILES="${files[*]:-}"
}

# Everything a stage that talks to the stack needs. Sets WORK (private scratch folder, removed on exit).
# The STACK OUTDIR arguments of the review and drift stages: sets STACK and OUT (an absolute, existing folder).
stack_and_outdir() {
  [ $# -eq 2 ] || { echo "usage: $STAGE.sh STACK OUTDIR" >&2; exit 2; }
  STACK=$1
  mkdir -p "$2"
  # shellcheck disable=SC2034 # read by the stage that called this
  OUT=$(cd "$2" && pwd)
}

pipeline_init() {
  pipeline_passphrase
  WORK=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/hdh-pipeline.XXXXXX")
  chmod 700 "$WORK"
  trap 'rm -rf "$WORK"' EXIT
  [ -f "$PROJECT_DIR/Pulumi.yaml" ] || die "no Pulumi.yaml in $PROJECT_DIR (set HDH_PROJECT_DIR)"
  command -v pulumi >/dev/null || die "pulumi is not on PATH: run npm run setup (or scripts/pipeline/ci-setup.sh)"
  pipeline_key_files
}

# pipeline_preview OUT_JSON [PREVIEW_ARGS...]: `pulumi preview --json` (with refresh) of $STACK into OUT_JSON,
# which stays in $WORK: it is not scrubbed yet. The CLI's own messages are printed scrubbed; on failure, so are
# the preview's error diagnostics. Returns the CLI's exit code.
pipeline_preview() {
  local out=$1 rc=0
  shift
  (cd "$PROJECT_DIR" && pulumi preview --json --refresh --non-interactive --stack "$STACK" "$@" \
    >"$out" 2>"$WORK/preview.err") || rc=$?
  [ -s "$WORK/preview.err" ] && scrub <"$WORK/preview.err" >&2
  if [ $rc -ne 0 ]; then
    hdh_node failure "$out" || true
    say "pulumi preview of stack $STACK failed (exit $rc)"
  fi
  return $rc
}

# The policy pack (scripts/pipeline/policy-pack.sh, when it exists): mandatory violations fail the stage with
# the rules' messages. HDH_POLICY_PACK=off skips it.
pipeline_policy_pack() {
  local pack="$PIPELINE_DIR/policy-pack.sh" args rc=0
  if [ "${HDH_POLICY_PACK:-}" = off ]; then say "policy pack: skipped (HDH_POLICY_PACK=off)"; return 0; fi
  [ -f "$pack" ] || { say "policy pack: scripts/pipeline/policy-pack.sh is not there: skipped"; return 0; }
  args=(--stack "$STACK" --cwd "$PROJECT_DIR")
  [ -n "${HDH_POLICY_PACK_CONFIG:-}" ] && args+=(--config "$HDH_POLICY_PACK_CONFIG")
  set +e
  bash "$pack" "${args[@]}" 2>&1 | scrub >&2
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}
