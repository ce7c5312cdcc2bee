# shellcheck shell=sh
# Subordinate ID files (/etc/subuid, /etc/subgid) and the remap user.

# hdh_ids_lock FILE: shadow's own lock (FILE.lock, taken with a hard link as shadow-utils does), for up to 5 s.
hdh_ids_lock() {
  echo $$ > "$1.hdh$$"; i=0
  until ln "$1.hdh$$" "$1.lock" 2>/dev/null; do
    i=$((i+1))
    if [ $i -gt 50 ]; then rm -f "$1.hdh$$"; echo "$1 is locked by another tool ($1.lock)" >&2; return 1; fi
    sleep 0.1
  done
  rm -f "$1.hdh$$"
}

# hdh_ids_write FILE SHA256 BASE64: FILE becomes the new content, under its lock and only if it still is what was
# planned from (SHA256 of its content, of "" when absent): a concurrent edit fails the step (4) instead of being
# lost.
hdh_ids_write() {
  hdh_ids_lock "$1" || return 1
  HDH_LOCKED="$1.lock"
  trap 'rm -f "$HDH_LOCKED"' EXIT
  if [ -f "$1" ]; then cur=$(sha256sum < "$1"); else cur=$(printf '' | sha256sum); fi
  if [ "${cur%% *}" != "$2" ]; then
    rm -f "$HDH_LOCKED"; trap - EXIT
    echo "$1 changed while we planned; run again" >&2
    return 4
  fi
  tmp=$(mktemp "$1.hdh-XXXXXX") && printf '%s' "$3" | base64 -d > "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$1"
  rc=$?
  rm -f "$HDH_LOCKED"; trap - EXIT
  return $rc
}

# hdh_ids_user OWNER: the remap user, made a system user without a home or login when missing.
hdh_ids_user() {
  id -u "$1" >/dev/null 2>&1 || useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$1"
}
