# shellcheck shell=sh
# The preflight: prints init=, socket= and liveFolder= lines, then files=: one tar archive (gzip where there is
# gzip, then base64) of the host's files, our records, the staged policy folder and the live one the Authorization
# step noted, and Docker's answers (under docker/). A process per file or per Docker call would cost a fleet more
# than the reading itself: every host is read in the same second, on every run; gzip makes the reading a third of
# its size, and the provider process decrypts every host's reading.
# Variables (probeScript in probe.ts): HDH_DOCKER_SOCKET, HDH_LIVE_NOTE, HDH_HOST_FILES, HDH_REC, HDH_STAGED.
: "${HDH_DOCKER_SOCKET:?}" "${HDH_LIVE_NOTE:?}" "${HDH_HOST_FILES:?}" "${HDH_REC:?}" "${HDH_STAGED:?}"
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
mkdir "$t/docker" || exit 1
hdh_docker_calls "$t/docker" "$HDH_DOCKER_SOCKET" &
if [ -d /run/systemd/system ]; then echo init=systemd
elif [ -x /etc/init.d/docker ]; then echo init=sysv
else echo init=none; fi
echo "socket=$(stat -c '%a %U %G' "$HDH_DOCKER_SOCKET" 2>/dev/null || printf absent)"
live=
[ -f "$HDH_LIVE_NOTE" ] && IFS= read -r live < "$HDH_LIVE_NOTE"
case "$live" in /?*) ;; *) live= ;; esac
echo "liveFolder=$live"
set --
# HDH_HOST_FILES: absolute paths without spaces (a fixed list); the others are globs.
# shellcheck disable=SC2086
for f in $HDH_HOST_FILES "$HDH_REC"/*.json "$HDH_REC"/plugin-settings.* "$HDH_STAGED"/*; do
  [ -f "$f" ] && set -- "$@" "${f#/}"
done
if [ -n "$live" ]; then for f in "$live"/*; do [ -f "$f" ] && set -- "$@" "${f#/}"; done; fi
wait
if command -v gzip >/dev/null 2>&1; then z="gzip -1"; else z="cat"; fi
echo "files=$(tar -chf - -C / "$@" -C "$t" docker | $z | base64 -w0)"
