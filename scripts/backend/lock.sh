#!/usr/bin/env bash
# Stack locks of Pulumi's self-managed backends (postgres://, s3://, file://, ...), made readable for pipelines.
#
# The CLI locks a stack for `up`, `refresh`, `destroy` and `import` (not for `preview`) by writing
# .pulumi/locks/<org>/<project>/<stack>/<uuid>.json ({pid, username, hostname, timestamp}) into the backend; a
# second run on the stack is refused at once with
#     error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete
#     the lock file with `pulumi cancel`.
#       <lock URL>: created by root@ci-7 (pid 4242) at 2026-01-01T10:00:00Z
# This helper adds the lock's age, whether its holder still runs, an optional wait, and a safe way out of a
# stale lock (one whose `pulumi` was killed: nothing will ever remove it).
#
#   lock.sh run [--] CMD...       run CMD (e.g. pulumi up --yes --stack prod); stdout is untouched. If the
#                                 stack is locked: says who holds it and since when, and exits 75 (or, with
#                                 HDH_LOCK_WAIT=SECONDS, retries until the lock is free or the time is up);
#                                 a stale lock exits 76 at once with the way out. Otherwise CMD's exit code.
#   lock.sh status [--stack S]    the stack's locks with holder and age: exit 0 none, 75 held, 76 stale
#   lock.sh clear [--stack S] [--force]
#                                 remove a stale lock with the CLI's own `pulumi cancel --stack S --yes`;
#                                 refuses while the holder still runs (unless --force).
#
# Run from the project folder (Pulumi.yaml), or give --cwd DIR. The backend is PULUMI_BACKEND_URL (or the
# current `pulumi login`). `status` reads file:// and postgres:// backends directly; `run` works with any backend
# (it reads the CLI's own message). A holder on this machine is alive when its pid is a running `pulumi` that
# started before the lock was taken; a holder on another machine is taken as stale only when older than
# HDH_LOCK_STALE_AFTER seconds (default 3600).
set -uo pipefail
WAIT=${HDH_LOCK_WAIT:-0}
POLL=${HDH_LOCK_POLL:-2}
STALE_AFTER=${HDH_LOCK_STALE_AFTER:-3600}
EX_HELD=75
EX_STALE=76
ME=$(uname -n)

say() { echo "lock: $*" >&2; }
die() { echo "lock: $*" >&2; exit 2; }
[[ $WAIT =~ ^[0-9]+$ ]] || die "HDH_LOCK_WAIT must be a number of seconds, not '$WAIT'"
[[ $POLL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "HDH_LOCK_POLL must be a number of seconds, not '$POLL'"
[[ $STALE_AFTER =~ ^[0-9]+$ ]] || die "HDH_LOCK_STALE_AFTER must be a number of seconds, not '$STALE_AFTER'"

age_of() { # RFC3339 timestamp -> "1h02m03s"
  local t s; t=$(date -d "$1" +%s 2>/dev/null) || { echo "?"; return; }
  s=$(( $(date +%s) - t )); [ $s -lt 0 ] && s=0
  if [ $s -ge 3600 ]; then printf '%dh%02dm%02ds' $((s/3600)) $((s%3600/60)) $((s%60))
  elif [ $s -ge 60 ]; then printf '%dm%02ds' $((s/60)) $((s%60))
  else printf '%ds' $s; fi
}
age_secs() { local t; t=$(date -d "$1" +%s 2>/dev/null) || { echo 0; return; }; echo $(( $(date +%s) - t )); }

# started_at PID -> when the process started, in seconds since the epoch (boot time + its start in clock ticks)
started_at() {
  local stat btime fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a fields <<< "${stat##*) }" # from field 3 on: the command name (field 2) may hold spaces
  btime=$(awk '$1 == "btime" { print $2 }' /proc/stat) || return 1
  [[ ${fields[19]:-} =~ ^[0-9]+$ && $btime =~ ^[0-9]+$ ]] || return 1
  echo $(( btime + fields[19] / $(getconf CLK_TCK) ))
}

# holds PID TIMESTAMP: PID is a running `pulumi` that started before the lock was taken. PIDs are reused: a
# `pulumi` that started after TIMESTAMP is another run, and the lock's holder is gone.
holds() {
  [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = pulumi ] || return 1
  local taken start
  taken=$(date -d "$2" +%s 2>/dev/null) && start=$(started_at "$1") || return 0 # cannot tell: running is enough
  # Slack for a timestamp in whole seconds and a clock stepped during the run: the holder is never taken for gone.
  [ "$start" -le $((taken + 5)) ]
}

# holder_state HOST PID TIMESTAMP -> alive | dead | unknown (another machine, young) | old (another machine, old)
holder_state() {
  if [ "$1" = "$ME" ]; then
    if holds "$2" "$3"; then echo alive; else echo dead; fi
  elif [ "$(age_secs "$3")" -ge "$STALE_AFTER" ]; then echo old
  else echo unknown; fi
}

backend_url() {
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then echo "$PULUMI_BACKEND_URL"; return; fi
  local creds="${PULUMI_HOME:-$HOME/.pulumi}/credentials.json"
  [ -f "$creds" ] && sed -n 's/^ *"current": *"\(.*\)",*$/\1/p' "$creds" | head -1 | sed 's/\\u0026/\&/g'
}

# lock_exists KEY-URL (as the CLI prints it) -> 0 exists, 1 gone, 2 cannot tell
lock_exists() {
  local u=$1 url; url=$(backend_url)
  case "$url" in
    file://*)
      local p=${u#file://}; p=${p%%\?*}; [ -e "$p" ] && return 0 || return 1 ;;
    postgres://*)
      local key=${u#postgres://}; key=${key#*/}; key=${key%%\?*}
      local n; n=$(pg_query "select count(*) from %TABLE% where key = :'k'" -v k="$key") || return 2
      [ "$n" = 0 ] && return 1 || return 0 ;;
    *) return 2 ;;
  esac
}

pg_query() { # SQL with %TABLE%, psql -v args...; connection from the backend URL (table= dropped)
  local sql=$1; shift
  local url table psql
  url=$(backend_url)
  table=$(printf '%s' "$url" | sed -n 's/.*[?&]table=\([^&]*\).*/\1/p'); table=${table:-pulumi_state}
  url=$(printf '%s' "$url" | sed -e 's/\([?&]\)table=[^&]*&\{0,1\}/\1/' -e 's/[?&]$//')
  psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)
  [ -x "$psql" ] || return 2
  printf '%s\n' "${sql//%TABLE%/$table}" | "$psql" -X -q -tA -v ON_ERROR_STOP=1 "$@" "$url" 2>/dev/null
}

# The stack's locks straight from the backend: lines "KEY<TAB>{json}".
list_locks() {
  local project=$1 stack=$2 url; url=$(backend_url)
  case "$url" in
    file://*)
      local root=${url#file://}; root=${root%%\?*}
      local d f
      for d in "$root/.pulumi/locks/organization/$project/$stack" "$root/.pulumi/locks/$stack"; do
        for f in "$d"/*.json; do [ -f "$f" ] && printf 'file://%s\t%s\n' "$f" "$(tr -d '\n' < "$f")"; done
      done
      return 0 ;;
    postgres://*)
      local prefix; prefix=$(printf '%s' "$url" | sed -e 's#^postgres://[^/]*##' -e 's#?.*##' -e 's#^/##')
      [ -n "$prefix" ] && prefix="$prefix/"
      pg_query "select 'postgres://' || key, convert_from(decode(data->>'data', 'base64'), 'UTF8') from %TABLE%
                where starts_with(key, :'p') order by key" \
        -v p="$prefix.pulumi/locks/organization/$project/$stack/" -F $'\t' \
        || die "cannot read the locks from the backend (psql failed)" ;;
    *) die "status reads file:// and postgres:// backends; for $url the CLI's own refusal names the holder" \
         "(use lock.sh run)" ;;
  esac
}

json_field() { printf '%s' "$1" | sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p"; }

project_name() { sed -n 's/^name: *\([^ #]*\).*/\1/p' Pulumi.yaml 2>/dev/null | tr -d "\"'" | head -1; }
current_stack() { pulumi stack --show-name 2>/dev/null; }

way_out() { # STACK
  echo "way out: check nothing runs on the stack, then \`scripts/backend/lock.sh clear --stack $1\`" \
    "(it runs the CLI's own \`pulumi cancel --stack $1 --yes\`, which deletes the stack's lock files)," \
    "then \`pulumi refresh --stack $1 --clear-pending-creates --yes\` to reconcile what the killed run left half-done"
}

describe() { # USER HOST PID TS -> sets DESC (one line) and STATE (alive|dead|old|unknown)
  STATE=$(holder_state "$2" "$3" "$4")
  local who age
  age=$(age_of "$4")
  who="$1@$2 (pid $3), taken $4, $age ago"
  case $STATE in
    alive) DESC="held by $who: that pulumi is still running" ;;
    dead) DESC="STALE: held by $who: pid $3 is no longer running on $2" ;;
    old) DESC="probably STALE: held by $who from another machine, older than ${STALE_AFTER}s" ;;
    *) DESC="held by $who from another machine" ;;
  esac
}

stack_of_key() { # .../locks/organization/<project>/<stack>/<uuid>.json -> <stack>
  local k=${1%%\?*}; k=${k%/*}; echo "${k##*/}"
}

LOCK_RE='^[[:space:]]+(.+):\ created\ by\ ([^@]+)@([^ ]+)\ \(pid\ ([0-9]+)\)\ at\ ([^ ]+)$'

cmd_run() {
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "usage: lock.sh run [--] CMD..."
  local start quick=0 attempt=0 errf rc
  start=$(date +%s)
  errf=$(mktemp); trap 'rm -f "$errf"' RETURN
  while :; do
    # stdout goes through untouched (pulumi preview --json stays parseable); stderr is shown and kept. On a
    # retry, stderr is held back until we know it is not the same refusal again (no repeated CLI errors).
    if [ $attempt = 0 ]; then
      { "$@" 2>&1 1>&3 3>&- | tee "$errf" >&2; rc=${PIPESTATUS[0]}; } 3>&1
    else
      "$@" 2>"$errf"; rc=$?
      grep -q 'the stack is currently locked by' "$errf" || cat "$errf" >&2
    fi
    attempt=$((attempt + 1))
    [ "$rc" = 0 ] && return 0
    grep -q 'the stack is currently locked by' "$errf" || return "$rc"
    # The CLI writes its lock, then looks for others: two runs starting in the same instant can both see the
    # other's lock and both give up (deleting their own). So, once, after a short random pause: when every
    # lock named is gone by now, it was such a race or a run that just ended: try again.
    sleep "0.$((RANDOM % 7 + 3))"
    local line holders="" stale=0 present=0 stack="(unknown)"
    while IFS= read -r line; do
      [[ $line =~ $LOCK_RE ]] || continue
      local keyurl=${BASH_REMATCH[1]}
      stack=$(stack_of_key "$keyurl")
      describe "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}"
      lock_exists "$keyurl"; local ex=$?
      [ $ex = 1 ] && continue                          # gone already
      [ $ex = 2 ] && [ "$STATE" = dead ] && [ $quick -lt 2 ] && continue # cannot look: give it a moment
      present=1
      case $STATE in dead|old) stale=1 ;; esac
      holders+="  $DESC"$'\n'
    done < "$errf"
    if [ $present = 0 ] && [ $quick -lt 5 ]; then quick=$((quick + 1)); continue; fi
    if [ $stale = 1 ]; then
      say "stack '$stack' is locked by a stale lock (left by a run that was killed):"; printf '%s' "$holders" >&2
      say "$(way_out "$stack")"
      return $EX_STALE
    fi
    local waited=$(( $(date +%s) - start ))
    if [ "$WAIT" -gt 0 ] && [ $waited -lt "$WAIT" ]; then
      say "stack '$stack' is locked; waiting (${waited}s of ${WAIT}s):"; printf '%s' "$holders" >&2
      sleep "$POLL"; quick=0; continue
    fi
    say "stack '$stack' is locked; refused$([ "$WAIT" -gt 0 ] && echo " after waiting ${waited}s"):"
    printf '%s' "$holders" >&2
    say "wait for that run to end, or set HDH_LOCK_WAIT=SECONDS to wait for it"
    return $EX_HELD
  done
}

parse_common() {
  STACK=""; FORCE=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --stack|-s) STACK=$2; shift 2 ;;
      --cwd|-C) cd "$2" || die "no folder $2"; shift 2 ;;
      --force) FORCE=1; shift ;;
      *) die "unknown argument '$1'" ;;
    esac
  done
  [ -f Pulumi.yaml ] || die "no Pulumi.yaml here ($(pwd)): run from the project folder or give --cwd"
  PROJECT=$(project_name); [ -n "$PROJECT" ] || die "no project name in Pulumi.yaml"
  [ -n "$STACK" ] || STACK=$(current_stack) || true
  [ -n "$STACK" ] || die "no stack: give --stack"
  STACK=${STACK##*/} # organization/project/stack -> stack
}

# Prints the stack's locks; returns 0 none, 75 held, 76 stale.
cmd_status() {
  parse_common "$@"
  local locks key json n=0 worst=0
  locks=$(list_locks "$PROJECT" "$STACK") || exit 2
  while IFS=$'\t' read -r key json; do
    [ -n "$key" ] || continue
    n=$((n + 1))
    describe "$(json_field "$json" username)" "$(json_field "$json" hostname)" \
      "$(json_field "$json" pid)" "$(json_field "$json" timestamp)"
    echo "lock: stack '$STACK' $DESC"
    case $STATE in dead|old) [ $worst = 0 ] && worst=$EX_STALE ;; *) worst=$EX_HELD ;; esac
  done <<< "$locks"
  [ $n = 0 ] && echo "lock: stack '$STACK' is not locked"
  [ $worst = $EX_STALE ] && echo "lock: $(way_out "$STACK")"
  return $worst
}

cmd_clear() {
  parse_common "$@"
  local out rc; out=$(cmd_status --stack "$STACK"); rc=$?
  printf '%s\n' "$out" | grep -v '^lock: way out' >&2
  case $rc in
    0) return 0 ;;
    "$EX_HELD") [ $FORCE = 1 ] \
      || { say "refusing: the holder may still be running (--force to remove it anyway)"; return $EX_HELD; } ;;
  esac
  pulumi cancel --stack "$STACK" --yes >&2 || return 1
  cmd_status --stack "$STACK" >/dev/null; rc=$?
  [ $rc = 0 ] || { say "the lock is still there after pulumi cancel"; return 1; }
  say "stack '$STACK': lock removed (pulumi cancel). Next: pulumi refresh --stack $STACK --clear-pending-creates --yes"
}

what=${1:-}; shift || true
case "$what" in
  run) cmd_run "$@" ;;
  status) cmd_status "$@" ;;
  clear) cmd_clear "$@" ;;
  *) die "usage: lock.sh run [--] CMD... | status [--stack S] [--cwd DIR] | clear [--stack S] [--force] [--cwd DIR]" ;;
esac
