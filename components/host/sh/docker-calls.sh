# shellcheck shell=sh
# hdh_docker_calls DIR SOCKET: asks Docker what the preflight needs, each answer in DIR/<name>, and
# `<name> <status>` lines in DIR/codes (names: version, info, plugins, authz, running; probe.ts reads them). One
# curl process asks the API over the socket; without curl (or with DOCKER_HOST set), the Docker CLI answers, at a
# process per call (each CLI start costs more than the call): status cli:<exit status>. The authz call is a request
# every policy refuses and that changes nothing: who refuses it tells which plugin enforces.
hdh_docker_calls() {
  if [ -z "${DOCKER_HOST:-}" ] && [ -S "$2" ] && command -v curl >/dev/null 2>&1 \
    && curl -sS --unix-socket "$2" \
      -o "$1/version" -w 'version %{http_code}\n' http://docker/version \
      --next -sS --unix-socket "$2" \
      -o "$1/info" -w 'info %{http_code}\n' http://docker/info \
      --next -sS --unix-socket "$2" \
      -o "$1/plugins" -w 'plugins %{http_code}\n' http://docker/plugins \
      --next -sS --unix-socket "$2" \
      -X POST -o "$1/authz" -w 'authz %{http_code}\n' http://docker/plugins/hdh-authorization-probe/disable \
      --next -sS --unix-socket "$2" \
      -o "$1/running" -w 'running %{http_code}\n' http://docker/containers/json \
      >"$1/codes" 2>/dev/null; then return 0; fi
  : >"$1/codes"
  { docker version -f '{{json .Server}}' >"$1/version" 2>&1; echo "version cli:$?" >>"$1/codes"; } &
  { docker info --format '{{json .}}' >"$1/info" 2>&1; echo "info cli:$?" >>"$1/codes"; } &
  { docker plugin ls --no-trunc --format '{{json .}}' >"$1/plugins" 2>&1; echo "plugins cli:$?" >>"$1/codes"; } &
  { docker plugin disable hdh-authorization-probe >"$1/authz" 2>&1; echo "authz cli:$?" >>"$1/codes"; } &
  { docker ps --format '{{json .Names}}' >"$1/running" 2>&1; echo "running cli:$?" >>"$1/codes"; } &
  wait
}
