#!/usr/bin/env bash
# Usage: plugin/push.sh [REF]
# Builds the plugin, creates it with the docker CLI on the daemon that
# DOCKER_HOST names (the caller sets it), pushes it to REF, and removes the
# local copy. REF defaults to localhost:5000/hardened-docker-host/opa-authz:VERSION;
# any registry works (log in first with `docker login` if it needs it). A REF
# without a tag gets VERSION as its tag.
# Env: DOCKER (the docker client; default: docker on PATH, /usr/local/bin/docker, /usr/bin/docker).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
ref=${1:-localhost:5000/hardened-docker-host/opa-authz:$version}
case "${ref##*/}" in
  *:*) ;;                 # has a tag
  *) ref=$ref:$version ;;
esac
case "$ref" in
  *@*) echo "push.sh: REF must be a name with a tag, not a digest: $ref" >&2; exit 2 ;;
esac

docker=${DOCKER:-}
if [ -z "$docker" ]; then
  for c in "$(command -v docker 2>/dev/null || true)" /usr/local/bin/docker /usr/bin/docker; do
    if [ -n "$c" ] && [ -x "$c" ]; then docker=$c; break; fi
  done
fi
[ -n "$docker" ] || { echo "push.sh: no docker client found (set DOCKER)" >&2; exit 1; }
echo "push.sh: daemon ${DOCKER_HOST:-(docker client default)}, plugin $ref" >&2

bash "$here/build.sh"

cleanup() { "$docker" plugin rm -f "$ref" >/dev/null 2>&1 || true; }
cleanup                     # a leftover from an earlier run
trap cleanup EXIT
"$docker" plugin create "$ref" "$here/dist/opa-authz"
"$docker" plugin push "$ref"
echo "push.sh: pushed $ref" >&2
