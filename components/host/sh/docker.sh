# shellcheck shell=sh
# Docker on a host: restart and reload it through the host's own init system (or HDH_RESTART_COMMAND), wait until
# it answers, and install a daemon.json atomically with a backup. Step scripts start with these functions, after
# the variables set by dockerFunctions() (components/host/dockerd.ts): HDH_REC (our record folder), HDH_DAEMON_JSON
# and HDH_RESTART_COMMAND (empty: the init system).
: "${HDH_REC:?}" "${HDH_DAEMON_JSON:?}"
hdh_log() { echo "hdh: $*" >&2; }
# hdh_restart: restarts Docker, counted in restarts.log; the status is the restart command's.
hdh_restart() {
  rc=0
  if [ -n "${HDH_RESTART_COMMAND:-}" ]; then sh -c "$HDH_RESTART_COMMAND" || rc=$?
  elif [ -d /run/systemd/system ]; then systemctl restart docker || rc=$?
  elif [ -x /etc/init.d/docker ]; then /etc/init.d/docker restart >/dev/null || rc=$?
  else echo "no way to restart Docker here (no systemd, no /etc/init.d/docker): set restartCommand" >&2; return 1; fi
  echo restart >> "$HDH_REC/restarts.log"
  return "$rc"
}
# SIGHUP makes dockerd reload the keys it can change live (authorization-plugins among them). It reloads
# asynchronously: callers wait for the effect, or give it time when there is none to see.
hdh_reload() {
  if [ -d /run/systemd/system ]; then systemctl reload docker; else kill -HUP "$(cat /var/run/docker.pid)"; fi
}
# Up to a minute, checked every 0.1 s. A CLI call costs about 17 ms of CPU, too much ten times a second on hosts
# that restart together: while the default socket is absent (dockerd removes it when it stops and makes it first
# thing when it starts, then answers there once ready), Docker is asked once a second only, in case it listens
# elsewhere.
hdh_wait_healthy() {
  i=0
  while [ $i -lt "${HDH_HEALTH_TRIES:-600}" ]; do
    if [ -n "${DOCKER_HOST:-}" ] || [ -S "${HDH_DOCKER_SOCK:-/var/run/docker.sock}" ] || [ $((i % 10)) -eq 9 ]; then
      # Up means answering: a refusal by a fail-closed authorization plugin is an answer too.
      if out=$(docker version 2>&1) || case "$out" in *"authorization denied"*) true ;; *) false ;; esac; then
        return 0
      fi
    fi
    # Fail fast when the daemon has already died (Debian's init script keeps its pid here).
    if [ $i -gt 30 ] && [ -f /var/run/docker-ssd.pid ] && ! kill -0 "$(cat /var/run/docker-ssd.pid)" 2>/dev/null; then
      return 1
    fi
    sleep 0.1; i=$((i+1))
  done
  return 1
}
hdh_docker_log() {
  { tail -n 200 /var/log/docker.log 2>/dev/null || journalctl -u docker -n 200 --no-pager 2>/dev/null; } |
    grep -E 'level=(error|fatal)|failed to start' | tail -n 3 || true
}
# hdh_install_daemon_json BASE64|-: back up the current file, validate where the engine can, write atomically
# (- removes the file).
hdh_install_daemon_json() {
  HDH_BACKUP="$HDH_REC/backups/daemon.json.$(date +%Y%m%d%H%M%S).$$"
  if [ -f "$HDH_DAEMON_JSON" ]; then cp -p "$HDH_DAEMON_JSON" "$HDH_BACKUP"; else : > "$HDH_BACKUP.absent"; fi
  ls -1 "$HDH_REC"/backups/daemon.json.* 2>/dev/null | sort -r | tail -n +21 | xargs -r rm -f # names sort by time
  if [ "$1" = - ]; then rm -f "$HDH_DAEMON_JSON"; return 0; fi
  mkdir -p /etc/docker
  tmp=$(mktemp "$HDH_DAEMON_JSON.hdh-XXXXXX")
  echo "$1" | base64 -d > "$tmp"; chmod 0644 "$tmp"
  if dockerd --help 2>&1 | grep -q -- '--validate'; then
    if ! dockerd --validate --config-file "$tmp" >/dev/null; then
      rm -f "$tmp"; echo "dockerd --validate refused the new daemon.json" >&2; return 1
    fi
  fi
  mv -f "$tmp" "$HDH_DAEMON_JSON"
}
hdh_restore_daemon_json() {
  if [ -f "$HDH_BACKUP" ]; then cp -p "$HDH_BACKUP" "$HDH_DAEMON_JSON"
  elif [ -f "$HDH_BACKUP.absent" ]; then rm -f "$HDH_DAEMON_JSON"; fi
}
# hdh_apply_daemon_json BASE64 restart|reload: install, restart or reload, and roll back if Docker does not come back.
# A restart command that failed (systemd gave up on the unit, the user's command failed) is not waited for: the
# previous file comes back at once instead of after the health wait's minute.
hdh_apply_daemon_json() {
  hdh_install_daemon_json "$1"
  restarted=yes
  if [ "$2" = restart ]; then hdh_restart || restarted=no; else hdh_reload || true; sleep 0.5; fi
  if [ "$restarted" = no ] || ! hdh_wait_healthy; then
    log=$(hdh_docker_log)
    if [ "$restarted" = no ]; then failed="the restart command failed with the new daemon.json"
    else failed="Docker did not come back healthy with the new daemon.json"; fi
    hdh_restore_daemon_json; hdh_restart || true
    echo "dockerd said: $log" >&2
    if hdh_wait_healthy; then
      echo "$failed; the previous one was restored and Docker restarted" >&2
    else
      echo "$failed, and Docker is DOWN" \
        "even with the previous one restored: see $(hdh_docker_log)" >&2
    fi
    return 3
  fi
}
