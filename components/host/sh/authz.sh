# shellcheck shell=sh
# Changing authorization without a moment where a Docker API listener is unchecked (after docker.sh); every value
# comes in as an argument or as a variable set by the step's script, nothing is spliced into this code.
# Variables: HDH_MAINT_HEAD, HDH_MAINT_TAIL and HDH_LOCK_MODULE (authzVariables in authzScripts.ts).
#
# - hdh_maint_begin TOKEN, hdh_maint_place DIR, hdh_maint_wait, hdh_maint_end: authenticate our plugin requests
#   while a plugin of ours enforces (see maintenanceModule); hdh_mdocker is docker with the token.
# - hdh_plugin_ensure ALIAS REF NORMREF SETTINGS [K=V...], hdh_plugin_remove ALIAS: change a plugin, refusing to
#   touch one that enforces (disabling it would take it out of the request path at once).
# - hdh_chain_switch NEW EXPECT BACK BACK_EXPECT FROM [PLUGIN...]: daemon.json with another chain, one reload, then
#   wait until Docker's answer names EXPECT; on failure BACK comes back. dockerd exits on a reload that lists a
#   plugin that is not enabled, so every PLUGIN of the new chain is checked first.
# - hdh_policy_precheck DIR ALIAS IMAGE, hdh_policy_backup LIVE, hdh_policy_promote FROM LIVE,
#   hdh_policy_restore LIVE: a staged policy judged by the plugin's own binary, then copied into the live folder
#   under a lock module that refuses every request (but our maintenance) until all files are in place.
HDH_PREVIOUS="$HDH_REC/policy-previous"
HDH_LOCK=hdh-promoting.rego
hdh_mdocker() { if [ -n "${HDH_MAINT_DIR:-}" ]; then docker --config "$HDH_MAINT_DIR" "$@"; else docker "$@"; fi; }
hdh_maint_begin() {
  HDH_MAINT_DIR=$(mktemp -d "$HDH_REC/maintenance.XXXXXX")
  src="${DOCKER_CONFIG:-${HOME:-/root}/.docker}/config.json"
  hdr="\"HttpHeaders\":{\"X-Hdh-Maintenance\":\"$1\"}"
  # The caller's registry credentials stay usable; our header goes last, so it wins over one the file has.
  if [ -s "$src" ] && [ "$(tr -d ' \t\r\n' < "$src")" != "{}" ]; then
    awk -v h="$hdr" '{ a[NR] = $0 }
      END { for (i = NR; i > 0; i--) if (match(a[i], /}[ \t\r]*$/)) {
          a[i] = substr(a[i], 1, RSTART - 1) "," h "}"; break }
        for (i = 1; i <= NR; i++) print a[i] }' "$src" > "$HDH_MAINT_DIR/config.json"
  else
    printf '{%s}\n' "$hdr" > "$HDH_MAINT_DIR/config.json"
  fi
  HDH_MAINT_DEADLINE="$(( $(date +%s) + 900 ))000000000"
  : > "$HDH_MAINT_DIR/placed"
}
hdh_maint_place() {
  [ -n "$1" ] && [ -d "$1" ] || return 0
  grep -qxF "$1/hdh-maintenance.rego" "$HDH_MAINT_DIR/placed" && return 0
  tmp=$(mktemp "$1/.hdh-XXXXXX")
  { printf '%s' "$HDH_MAINT_HEAD"; printf '%s' "$HDH_MAINT_DEADLINE"; printf '%s' "$HDH_MAINT_TAIL"; } > "$tmp"
  chmod 0644 "$tmp"; mv -f "$tmp" "$1/hdh-maintenance.rego"
  printf '%s\n' "$1/hdh-maintenance.rego" >> "$HDH_MAINT_DIR/placed"
}
hdh_maint_wait() {
  i=0
  while [ $i -lt "${HDH_WAIT_TRIES:-50}" ]; do
    out=$(hdh_mdocker plugin disable hdh-authorization-probe 2>&1 || true)
    case "$out" in *"authorization denied"*) ;; *) return 0 ;; esac
    sleep 0.2; i=$((i+1))
  done
  echo "the enforcing policy does not accept our maintenance token (is its decision data.docker.authz.allow?):" \
    "nothing was changed; Docker said: $out" >&2
  return 1
}
hdh_maint_end() {
  [ -n "${HDH_MAINT_DIR:-}" ] || return 0
  while IFS= read -r f; do rm -f "$f"; done < "$HDH_MAINT_DIR/placed"
  rm -rf "$HDH_MAINT_DIR"; HDH_MAINT_DIR=
}
hdh_plugin_policy_dir() {
  f='{{range .Settings.Mounts}}{{if eq .Destination "/opa/policies"}}{{.Source}}{{end}}{{end}}'
  hdh_mdocker plugin inspect -f "$f" "$1" 2>/dev/null || true
}
hdh_listed() {
  [ -f "$HDH_DAEMON_JSON" ] || return 1
  list=$(tr -d ' \t\r\n' < "$HDH_DAEMON_JSON" | grep -o '"authorization-plugins":\[[^]]*\]' || true)
  case "$list" in *"\"$1\""*|*"\"${1%:latest}\""*|*"\"$1:latest\""*) return 0 ;; esac
  return 1
}
# Plugin facts are read with the token: a policy that refuses everything (but our maintenance) hides nothing then.
hdh_enabled() { [ "$(hdh_mdocker plugin inspect -f '{{.Enabled}}' "$1" 2>/dev/null)" = true ]; }
hdh_guard_change() {
  # Only a plugin Docker says is disabled may be changed while listed (an answer we cannot read is not one).
  if hdh_listed "$1" && [ "$(hdh_mdocker plugin inspect -f '{{.Enabled}}' "$1" 2>/dev/null)" != false ]; then
    echo "plugin $1 enforces (it is listed in authorization-plugins and enabled): it is never disabled in place;" \
      "nothing was changed" >&2
    return 1
  fi
}
hdh_plugin_ensure() {
  a=$1 ref=$2 norm=$3 want=$4; shift 4
  rec="$HDH_REC/plugin-settings.$a"
  if hdh_mdocker plugin inspect "$a" >/dev/null 2>&1; then
    if [ "$(hdh_mdocker plugin inspect -f '{{.PluginReference}}' "$a")" != "$norm" ]; then
      hdh_guard_change "$a" || return 1
      hdh_mdocker plugin disable -f "$a" >/dev/null 2>&1 || true
      hdh_mdocker plugin upgrade --grant-all-permissions --skip-remote-check "$a" "$ref" >/dev/null || return 1
    fi
  else
    rm -f "$rec" # a fresh install has the image's settings
    hdh_mdocker plugin install --grant-all-permissions --disable --alias "$a" "$ref" >/dev/null || return 1
  fi
  if [ "$want" != "$(cat "$rec" 2>/dev/null || true)" ] || ! hdh_enabled "$a"; then
    hdh_guard_change "$a" || return 1
    hdh_mdocker plugin disable -f "$a" >/dev/null 2>&1 || true
    if [ $# -gt 0 ]; then hdh_mdocker plugin set "$a" "$@" || return 1; fi
    printf '%s\n' "$want" > "$rec"
    hdh_mdocker plugin enable "$a" >/dev/null || return 1
  fi
}
hdh_plugin_remove() {
  if ! hdh_mdocker plugin inspect "$1" >/dev/null 2>&1; then rm -f "$HDH_REC/plugin-settings.$1"; return 0; fi
  if hdh_listed "$1"; then echo "plugin $1 is listed in authorization-plugins: it is not removed" >&2; return 1; fi
  hdh_mdocker plugin disable -f "$1" >/dev/null 2>&1 || true
  hdh_mdocker plugin rm -f "$1" >/dev/null || return 1
  rm -f "$HDH_REC/plugin-settings.$1"
}
hdh_answer_names() {
  case "$HDH_ANSWER" in *"authorization denied by plugin $1:"*) return 0 ;; esac
  return 1
}
# hdh_answer_is EXPECT FROM: Docker's answer names EXPECT (when empty: does not name FROM, if FROM is set).
hdh_answer_is() {
  # A request every policy refuses and that changes nothing: who refuses it is who enforces first.
  HDH_ANSWER=$(docker plugin disable hdh-authorization-probe 2>&1 || true)
  if [ -n "$1" ]; then hdh_answer_names "$1"; else [ -z "$2" ] || ! hdh_answer_names "$2"; fi
}
hdh_wait_answer() {
  i=0
  while [ $i -lt "${HDH_WAIT_TRIES:-50}" ]; do
    hdh_answer_is "$1" "$2" && return 0
    sleep 0.2; i=$((i+1))
  done
  return 1
}
# hdh_reload_for EXPECT FROM: reload, then wait for that answer. dockerd reloads asynchronously: when its answer
# already is the awaited one, the wait cannot see the reload land, so it gets time instead.
hdh_reload_for() {
  settle=0; hdh_answer_is "$1" "$2" && settle=0.5
  hdh_reload || true
  sleep "$settle"
  hdh_wait_answer "$1" "$2"
}
hdh_chain_switch() {
  new=$1 expect=$2 back=$3 back_expect=$4 from=$5; shift 5
  for p in "$@"; do
    hdh_enabled "$p" && continue
    echo "plugin $p is not enabled, and dockerd exits on a reload that lists it:" \
      "authorization-plugins was not changed" >&2
    return 1
  done
  hdh_install_daemon_json "$new" || return 1
  hdh_reload_for "$expect" "$from" && return 0
  echo "after the reload, Docker's answer does not name ${expect:-another plugin than $from}" \
    "(Docker said: $HDH_ANSWER):" \
    "the previous authorization-plugins is back" >&2
  hdh_install_daemon_json "$back" || return 1
  hdh_reload_for "$back_expect" "" \
    || echo "and Docker's answer does not name ${back_expect:-a plugin} either (Docker said: $HDH_ANSWER)" >&2
  return 1
}
hdh_policy_files() {
  for f in "$1"/*; do [ -f "$f" ] && [ "${f##*/}" != "$HDH_LOCK" ] && printf '%s\n' "${f##*/}"; done
  true
}
hdh_policy_copy() {
  mkdir -p "$2"
  hdh_policy_files "$1" > "$HDH_REC/policy-copy.list" || return 1
  while IFS= read -r n; do
    tmp=$(mktemp "$2/.hdh-XXXXXX") && cp -p "$1/$n" "$tmp" && mv -f "$tmp" "$2/$n" || { rm -f "$tmp"; return 1; }
  done < "$HDH_REC/policy-copy.list"
  hdh_policy_files "$2" > "$HDH_REC/policy-copy.list" || return 1
  while IFS= read -r n; do [ -f "$1/$n" ] || rm -f "$2/$n" || return 1; done < "$HDH_REC/policy-copy.list"
  rm -f "$HDH_REC/policy-copy.list"
}
hdh_policy_clear() {
  hdh_policy_files "$1" > "$HDH_REC/policy-copy.list" || return 1
  while IFS= read -r n; do rm -f "$1/$n" || return 1; done < "$HDH_REC/policy-copy.list"
  rm -f "$1/$HDH_LOCK" "$HDH_REC/policy-copy.list"
}
hdh_policy_backup() {
  rm -rf "$HDH_PREVIOUS" && mkdir -p "$HDH_PREVIOUS" && hdh_policy_copy "$1" "$HDH_PREVIOUS"
}
hdh_policy_promote() {
  mkdir -p "$2"
  tmp=$(mktemp "$2/.hdh-XXXXXX") && printf '%s' "$HDH_LOCK_MODULE" > "$tmp" && chmod 0644 "$tmp" \
    && mv -f "$tmp" "$2/$HDH_LOCK" || { rm -f "$tmp"; return 1; }
  if hdh_policy_copy "$1" "$2"; then rm -f "$2/$HDH_LOCK"; return 0; fi
  # Half copied: the previous files come back before the lock goes; if even that fails, the lock stays
  # (every request refused) rather than a mix of two policies deciding.
  if hdh_policy_copy "$HDH_PREVIOUS" "$2"; then
    rm -f "$2/$HDH_LOCK"
  else
    echo "the policy folder $2 is locked (every request refused): remove $2/$HDH_LOCK once its files are right" >&2
  fi
  return 1
}
hdh_policy_restore() { hdh_policy_promote "$HDH_PREVIOUS" "$1"; }
hdh_one_line() { printf '%s' "$1" | tr '\n' ' '; }
# After a failed canary: the previous policy files back when this run promoted new ones ($undone says what).
# shellcheck disable=SC2034 # undone is read by the step script
hdh_undo_policy() {
  if [ "${HDH_PROMOTED:-no}" != yes ]; then undone="the policy files were not changed"
  elif hdh_policy_restore "$HDH_LIVE"; then undone="the previous policy files are back"
  else undone="the previous policy files could NOT be restored"; fi
}
# ALIAS: the plugin still answers for Docker, and the canary passes with what is live now ($state says).
# shellcheck disable=SC2034 # state is read by the step script
hdh_recheck() {
  if ! hdh_wait_answer "$1" ""; then state="plugin $1 does NOT answer (Docker said: $HDH_ANSWER)"
  elif again=$(hdh_canary 2>&1); then state="plugin $1 enforces it and the canary passes again"
  else state="plugin $1 enforces it, but the canary still fails: $(hdh_one_line "$again")"; fi
}
hdh_precheck_ask() {
  body=$(printf '%s' "$4" | base64 -w0)
  headers='{"Content-Type":"application/json","User-Agent":"hdh-canary-precheck"}'
  out=$(printf '{"RequestMethod":"%s","RequestURI":"%s","RequestHeaders":%s,"RequestBody":"%s"}' \
      "$2" "$3" "$headers" "$body" \
    | curl -s --max-time 10 --unix-socket "$1/plugin.sock" -H 'Content-Type: application/json' --data-binary @- \
      http://plugin/AuthZPlugin.AuthZReq) || out=
  case "$5:$out" in
    allow:*'"Allow":true'*|deny:*'"Allow":false'*) return 0 ;;
    *:) echo "canary (staged policy, not live): the plugin gave no answer for $6" >&2 ;;
    allow:*) msg=$(printf '%s' "$out" | sed -n 's/.*"Msg":"\(.*\)".*/\1/p')
      echo "canary (staged policy, not live): $6 would be refused: $msg" >&2 ;;
    *) echo "canary (staged policy, not live): $6 would NOT be refused" >&2 ;;
  esac
  return 1
}
hdh_policy_precheck() {
  command -v curl >/dev/null 2>&1 || return 2
  id=$(docker plugin inspect -f '{{.ID}}' "$2" 2>/dev/null) || return 2
  root=$(docker info -f '{{.DockerRootDir}}' 2>/dev/null) || return 2
  bin="$root/plugins/$id/rootfs/opa-authz"
  [ -n "$id" ] && [ -x "$bin" ] || return 2
  d=$(mktemp -d "$HDH_REC/precheck.XXXXXX")
  "$bin" -socket "$d/plugin.sock" -policy-dir "$1" -quiet > "$d/log" 2>&1 &
  pid=$!
  i=0
  until [ -S "$d/plugin.sock" ]; do
    i=$((i+1))
    if [ $i -gt 50 ] || ! kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; rm -rf "$d"; return 2; fi
    sleep 0.1
  done
  img=$3 repo=${3%:*} tag=${3##*:}
  case "$tag" in */*) repo=$3 tag=latest ;; esac
  rc=0
  hdh_precheck_ask "$d" POST "/v1.41/images/create?fromImage=$repo&tag=$tag" "" allow "pulling the canary image" || rc=1
  compliant="{\"Image\":\"$img\",\"User\":\"65534:65534\",\"Cmd\":[\"true\"],"
  compliant="$compliant\"HostConfig\":{\"NetworkMode\":\"none\",\"AutoRemove\":true}}"
  hdh_precheck_ask "$d" POST /v1.41/containers/create "$compliant" allow "a compliant container" || rc=1
  hdh_precheck_ask "$d" POST /v1.41/containers/hdh-canary/start "" allow "starting a container" || rc=1
  hdh_precheck_ask "$d" POST "/v1.41/containers/hdh-canary/wait?condition=removed" "" allow "waiting for a container" \
    || rc=1
  privileged="{\"Image\":\"$img\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Privileged\":true}}"
  hdh_precheck_ask "$d" POST /v1.41/containers/create "$privileged" deny "a privileged container" || rc=1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$d"
  return $rc
}

# The Authorization step's phases (authorizationScript in authorizationProvider.ts sets HDH_LIVE, HDH_STAGED,
# HDH_ALIAS, HDH_IMAGE and HDH_PROMOTED=no first). Exit statuses: 5 authorization or canary, 6 the staged policy
# judged bad, 7 the policy files could not be backed up or copied.

# hdh_authz_promote KEPT: the staged policy judged by the plugin's own binary before it is live, then copied into
# the live folder after a backup of it. KEPT ends the refusal's message (what still enforces).
hdh_authz_promote() {
  rc=0; hdh_policy_precheck "$HDH_STAGED" "$HDH_ALIAS" "$HDH_IMAGE" || rc=$?
  if [ $rc = 1 ]; then echo "the new policy was not made live; the live one is unchanged$1" >&2; return 6; fi
  if [ $rc = 2 ]; then
    echo "hdh: the staged policy could not be checked before going live (no curl, or not our plugin's binary):" \
      "the canary judges it live, with rollback" >&2
  fi
  hdh_policy_backup "$HDH_LIVE" || { echo "cannot back up the live policy: nothing was changed" >&2; return 7; }
  HDH_PROMOTED=yes
  if ! hdh_policy_promote "$HDH_STAGED" "$HDH_LIVE"; then
    echo "the new policy could not be copied into $HDH_LIVE: the previous files are back" >&2
    return 7
  fi
}

# hdh_authz_enable NEW EXPECT BACK BACK_EXPECT FROM [PLUGIN...]: the plugin listed (hdh_chain_switch); when that
# fails, the policy files this run promoted come back too.
hdh_authz_enable() {
  hdh_chain_switch "$@" && return 0
  hdh_undo_policy
  echo "$undone" >&2
  return 5
}

# hdh_authz_off_again NEW EXPECT BACK BACK_EXPECT FROM [PLUGIN...]: after a failed canary of a first enablement,
# the chain as it was before ($state says whether that worked).
# shellcheck disable=SC2034 # state is read by hdh_authz_canary
hdh_authz_off_again() {
  if hdh_chain_switch "$@"; then state="authorization is off again, as before this first enablement"
  else state="authorization could NOT be taken off again"; fi
}

# hdh_authz_canary RESTORE...: the canary; when it fails, the policy files this run promoted come back, then
# RESTORE runs (hdh_authz_off_again ..., or hdh_recheck ALIAS: a plugin already in the request path stays there and
# enforces the previous policy, checked once more), and the step fails with one line saying what is now true.
hdh_authz_canary() {
  if seen=$(hdh_canary 2>&1); then return 0; fi
  hdh_undo_policy
  "$@"
  if hdh_wait_healthy; then health="Docker answers"; else health="Docker does NOT answer"; fi
  echo "$(hdh_one_line "$seen"); $undone; $state; $health" >&2
  return 5
}
