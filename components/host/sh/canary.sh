# shellcheck shell=sh
# The canary: a compliant container must run, and a privileged one must be refused by our plugin (not merely
# fail: a kernel whose runc cannot start privileged containers at all fails them too, so only the plugin's words
# count). Variables: HDH_CANARY_IMAGE, HDH_CANARY_PLUGIN (the alias that must refuse).
hdh_canary() {
  docker image inspect "$HDH_CANARY_IMAGE" >/dev/null 2>&1 || docker pull -q "$HDH_CANARY_IMAGE" >/dev/null 2>&1 \
    || { echo "canary: cannot pull $HDH_CANARY_IMAGE" >&2; return 1; }
  out=$(docker run --rm --user 65534:65534 --network none "$HDH_CANARY_IMAGE" true 2>&1) \
    || { echo "canary: a compliant container was refused: $out" >&2; return 1; }
  if out=$(docker create --privileged "$HDH_CANARY_IMAGE" true 2>&1); then
    docker rm -f "$out" >/dev/null 2>&1; echo "canary: a privileged container was NOT refused" >&2; return 1
  fi
  case "$out" in *"authorization denied by plugin $HDH_CANARY_PLUGIN"*) return 0 ;; esac
  echo "canary: the privileged container failed, but not by the plugin: $out" >&2; return 1
}
