# shellcheck shell=sh
# Closing the Docker socket to everyone but root, and opening it again. Versions of the Authorization step before
# the no-window plugin change closed it during maintenance and after a failed canary; whatever enforces again
# reopens it from the mode recorded before the first close. Needs docker.sh (HDH_REC).
HDH_SOCK=${HDH_SOCK:-/var/run/docker.sock}
hdh_close_socket() {
  [ -f "$HDH_REC/socket-mode" ] || stat -c '%a %G' "$HDH_SOCK" > "$HDH_REC/socket-mode"
  chmod 0600 "$HDH_SOCK"
}
hdh_reopen_socket() {
  if [ -f "$HDH_REC/socket-mode" ]; then
    read -r mode group < "$HDH_REC/socket-mode"
    chgrp "$group" "$HDH_SOCK" 2>/dev/null || true
    chmod "$mode" "$HDH_SOCK" && rm -f "$HDH_REC/socket-mode"
  fi
}
