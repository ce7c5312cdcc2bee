#!/usr/bin/env bash
# The local fleet: N real Docker hosts on this machine. Each host has its own network namespace and mount
# namespace (own /etc, /var, /var/lib/docker, /run, /home, /root, /tmp), its own dockerd started by Debian's
# init script, and its own sshd (socat on 127.0.0.1:<port> runs `sshd -i` inside the host per connection).
# A private registry on loopback (Debian docker-registry) is reachable from every host as localhost:5000.
# h1 doubles as a bastion: inside its network, host hI's sshd also answers on 127.0.0.1:(BASTION_PORT_BASE + I),
# ports the controller cannot reach, so a connection there has to jump through h1 (like `ssh -J`).
#
#   fleet.sh up [N]      bring up N hosts (default $HDH_FLEET_SIZE or 6); cleans up what an earlier run left first
#   fleet.sh down        take everything down; nothing is left outside .fleet/
#   fleet.sh status      one line per host
#   fleet.sh exec HOST CMD...   run a command inside a host (as root)
#   fleet.sh sshd HOST stop|start   refuse or accept the controller's SSH connections to a host (fault injection)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FLEET=${HDH_FLEET_DIR:-$ROOT/.fleet}
SSH_PORT_BASE=${HDH_FLEET_SSH_PORT_BASE:-2221}
REGISTRY_PORT=${HDH_FLEET_REGISTRY_PORT:-5000}
BASTION_PORT_BASE=2200
PREFIX=hdh-                 # network namespace names: hdh-h1, hdh-h2, ...
export PATH="$ROOT/.tools/bin:$PATH"

say() { echo "fleet: $*" >&2; }
fail() { echo "fleet: $*" >&2; exit 1; }

netns_of() { echo "$PREFIX$1"; }
mntns_of() { echo "$FLEET/ns/$1"; }
in_host() { local h=$1; shift; nsenter --mount="$(mntns_of "$h")" --net="/run/netns/$(netns_of "$h")" -- "$@"; }
docker_sock() { echo "$FLEET/hosts/$1/run/docker.sock"; }

# ---------- down ----------
kill_pids() { # SIGTERM, then SIGKILL what is left after a grace period
  local pids=("$@"); [ ${#pids[@]} -eq 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    local alive=(); for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    [ ${#alive[@]} -eq 0 ] && return 0; sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

# Containers and managed plugins live in namespaces of their own, not the host's: find them through the cgroups
# named by the IDs the host's dockerd knows (remapped data roots included). Containers sit under docker/<id>,
# plugins under <id> at the top of each hierarchy.
docker_ids() {
  # shellcheck disable=SC2010 # names only, and they are hex IDs: ls | grep is exact here
  ls "$1"/containers "$1"/*.*/containers "$1"/plugins "$1"/*.*/plugins 2>/dev/null |
    grep -E '^[0-9a-f]{64}$' | sort -u || true
}
docker_pids() {
  local id
  for id in $(docker_ids "$1"); do
    cat /sys/fs/cgroup/*/docker/"$id"/cgroup.procs /sys/fs/cgroup/*/"$id"/cgroup.procs 2>/dev/null || true
  done | sort -u
}
remove_docker_cgroups() { # a cgroup can be removed only once the kernel has let go of its last task: retry briefly
  local id ids; ids=$(docker_ids "$1")
  for _ in $(seq 1 30); do
    for id in $ids; do rmdir /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/*/"$id" 2>/dev/null || true; done
    # shellcheck disable=SC2046 # one path per word, globs expanded on purpose
    ls -d $(for id in $ids; do echo /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/*/"$id"; done) \
      >/dev/null 2>&1 || return 0
    sleep 0.1
  done
}

down_host() { # one host: its containers, then every process in its namespaces, then the namespace
  local ns=$1 h pids
  h=${ns#"$PREFIX"}
  if [ -S "$(docker_sock "$h")" ]; then # stop containers first: live-restore would keep them past dockerd
    timeout 20 docker -H "unix://$(docker_sock "$h")" ps -q 2>/dev/null |
      xargs -r timeout 20 docker -H "unix://$(docker_sock "$h")" kill >/dev/null 2>&1 || true
  fi
  mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null; \
    [ -d "$FLEET/hosts/$h/docker" ] && docker_pids "$FLEET/hosts/$h/docker")
  kill_pids "${pids[@]}"
  [ -d "$FLEET/hosts/$h/docker" ] && remove_docker_cgroups "$FLEET/hosts/$h/docker"
  ip netns delete "$ns" 2>/dev/null || true
}

down() {
  local ns
  # Hosts of this fleet and of any earlier fleet (another clone may have left namespaces with our names).
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX" || true); do
    down_host "$ns" &
  done
  wait
  # Root-side forwarders and the registry (pid files), then anything still holding our ports.
  for f in "$FLEET"/pids/*.pid; do [ -f "$f" ] && kill_pids "$(cat "$f")"; rm -f "$f"; done
  fuser -k -n tcp "$REGISTRY_PORT" >/dev/null 2>&1 || true
  pkill -f 'UNIX-LISTEN:[^ ]*/\.fleet/registry\.sock' 2>/dev/null || true # any clone's registry forwarder
  for p in $(seq "$SSH_PORT_BASE" $((SSH_PORT_BASE + 19))); do fuser -k -n tcp "$p" >/dev/null 2>&1 || true; done
  # Mount namespaces are pinned by bind mounts on files in $FLEET/ns.
  if [ -d "$FLEET/ns" ]; then
    for f in "$FLEET"/ns/*; do [ -e "$f" ] && { umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true; }; done
    while mountpoint -q "$FLEET/ns"; do umount "$FLEET/ns" 2>/dev/null || umount -l "$FLEET/ns"; done
  fi
  # Mount namespaces an earlier fleet in another clone pinned (its hosts are gone with their network namespaces).
  awk '$3 == "nsfs" && $2 ~ /\/\.fleet\/ns\/h[0-9]+$/ {print $2}' /proc/mounts |
    while read -r m; do umount "$m" 2>/dev/null || true; done
  awk '$2 ~ /\/\.fleet\/ns$/ {print $2}' /proc/mounts | sort -u |
    while read -r m; do [ "$m" = "$FLEET/ns" ] || umount "$m" 2>/dev/null || true; done
  # Docker's vfs/overlay layers may still be mounted in the root namespace if a host was killed hard.
  { grep -F " $FLEET/" /proc/mounts || true; } | awk '{print $2}' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # dockerd made it; it goes once nothing is left in it (the kernel lets go of emptied cgroups a little later).
  for _ in $(seq 1 30); do
    rmdir /sys/fs/cgroup/*/docker 2>/dev/null || true; ls -d /sys/fs/cgroup/*/docker >/dev/null 2>&1 || break; sleep 0.1
  done
  rm -rf "$FLEET/hosts" "$FLEET/ns" "$FLEET/inventory.json" "$FLEET"/*.sock
  say "down"
}

# ---------- up ----------
client_key() {
  mkdir -p "$FLEET/keys"; chmod 700 "$FLEET/keys"
  [ -f "$FLEET/keys/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C hdh-fleet-controller -f "$FLEET/keys/id_ed25519"
}

start_registry() {
  mkdir -p "$FLEET/registry/data" "$FLEET/pids"
  cat > "$FLEET/registry/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $FLEET/registry/data }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$REGISTRY_PORT }
EOF
  docker-registry serve "$FLEET/registry/config.yml" >>"$FLEET/registry/registry.log" 2>&1 &
  echo $! > "$FLEET/pids/registry.pid"
  # Hosts reach the registry through a unix socket in .fleet (their network namespaces have only loopback).
  socat "UNIX-LISTEN:$FLEET/registry.sock,fork,unlink-early" "TCP:127.0.0.1:$REGISTRY_PORT" >/dev/null 2>&1 &
  echo $! > "$FLEET/pids/registry-sock.pid"
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null && return 0; sleep 0.1; done
  fail "registry: docker-registry did not answer on 127.0.0.1:$REGISTRY_PORT (see $FLEET/registry/registry.log)"
}

# Runs inside the host's new mount namespace: its own /etc and /var (overlays on the machine's),
# its own docker data, /run, /home, /root, /tmp, and a sysfs of its network namespace.
mount_host_fs() {
  local d=$1
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/etc.upper,workdir=$d/etc.work" /etc
  mount -t overlay overlay -o "lowerdir=/var,upperdir=$d/var.upper,workdir=$d/var.work" /var
  mkdir -p /var/lib/docker
  mount --bind "$d/docker" /var/lib/docker
  mount --bind "$d/run" /run
  mount --bind "$d/home" /home
  mount --bind "$d/root" /root
  mount --bind "$d/tmp" /tmp
  umount -l /sys 2>/dev/null || true
  mount -t sysfs sysfs /sys # cgroups are mounted by Debian's docker init script, as on a host without systemd
}

# What each host looks like before we touch it: root and a sudo user `deploy` with key login; h2 has an
# existing subordinate range for another user; h3 has a daemon.json with the operator's own keys.
# Each host keeps its SSH host key across down/up (in .fleet/keys), so a stack's pinned keys stay valid when the
# fleet is brought up again: the hosts come back in their first state, and `pulumi up` hardens them again.
host_key() {
  local h=$1
  [ -f "$FLEET/keys/host-$h" ] || ssh-keygen -q -t ed25519 -N '' -C "hdh-fleet-$h" -f "$FLEET/keys/host-$h"
  in_host "$h" sh -c 'umask 077; cat > /etc/ssh/ssh_host_ed25519_key' < "$FLEET/keys/host-$h"
  in_host "$h" sh -c 'cat > /etc/ssh/ssh_host_ed25519_key.pub' < "$FLEET/keys/host-$h.pub"
}

seed_host() {
  local h=$1 i=$2
  in_host "$h" bash -euo pipefail -c '
    mkdir -p /run/sshd /run/lock /etc/ssh/authorized_keys /var/lib/docker
    rm -f /etc/ssh/ssh_host_*
    cat > /etc/ssh/sshd_config <<EOF
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PidFile none
Subsystem sftp internal-sftp
LogLevel ERROR
ForceCommand /etc/ssh/hdh-command
EOF
    # Accounting on the host side (npm run bench): a line per SSH connection and per command, then the real thing.
    cat > /etc/ssh/hdh-sshd <<"EOF"
#!/bin/sh
echo connection >> /var/log/hdh-ssh.log
exec /usr/sbin/sshd -i -f /etc/ssh/sshd_config
EOF
    cat > /etc/ssh/hdh-command <<"EOF"
#!/bin/sh
echo command >> /var/log/hdh-ssh.log
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; else exec "${SHELL:-/bin/sh}" -l; fi
EOF
    chmod 755 /etc/ssh/hdh-sshd /etc/ssh/hdh-command
    : > /var/log/hdh-ssh.log; chmod 666 /var/log/hdh-ssh.log
    id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy
    id nosudo >/dev/null 2>&1 || useradd -m -s /bin/bash nosudo
    usermod -p "*" deploy; usermod -p "*" nosudo # key-only accounts, not locked ones (sshd refuses locked)
    echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy
    key=$(cat) # the controller key comes on stdin: the project folder may be hidden inside the host (e.g. under /tmp)
    for u in root deploy nosudo; do
      printf "%s\n" "$key" > /etc/ssh/authorized_keys/$u; chmod 644 /etc/ssh/authorized_keys/$u
    done
    mkdir -p /etc/docker
    rm -f /etc/docker/daemon.json /etc/subuid- /etc/subgid-
    # This sandbox may not raise the hard open-files limit that Debian'"'"'s init script asks for: keep the
    # script, let it fall back to the hard limit.
    sed -i -e "s/^\(\s*\)ulimit -n 1048576$/\1ulimit -n 1048576 2>\/dev\/null || ulimit -n \"\$(ulimit -Hn)\"/" \
      -e "s/^\(\s*\)ulimit -\([up]\) unlimited$/\1ulimit -\2 unlimited 2>\/dev\/null || true/" /etc/init.d/docker
  ' < "$FLEET/keys/id_ed25519.pub"
  case $i in
    2) in_host "$h" sh -c 'echo "alice:231072:65536" >> /etc/subuid; echo "alice:231072:65536" >> /etc/subgid' ;;
    3) in_host "$h" sh -c 'cat > /etc/docker/daemon.json' <<'EOF'
{
  "log-opts": { "max-size": "20m", "labels": "team" },
  "labels": ["team=blue", "fleet=local"],
  "debug": false
}
EOF
    ;;
  esac
}

# sshd per connection, inside the host, on 127.0.0.1:(SSH_PORT_BASE + I - 1). The listener runs under tini as a
# subreaper, and so does a host's first dockerd (start_ssh HOST I docker): a dockerd that exits is reaped at once,
# as systemd or sysvinit does on a real host. This machine's own init reaps orphans about 2 s late, and Debian's
# init script waits for that on every Docker restart.
start_ssh() {
  local h=$1 i=$2 first=${3:-} sshd
  sshd="nsenter --mount=$(mntns_of "$h") --net=/run/netns/$(netns_of "$h") --"
  tini -s -- sh -c "${first:+$sshd /etc/init.d/docker start >/dev/null;} exec socat \
    TCP-LISTEN:$((SSH_PORT_BASE + i - 1)),bind=127.0.0.1,reuseaddr,fork 'EXEC:$sshd /etc/ssh/hdh-sshd'" \
    >/dev/null 2>&1 &
  echo $! > "$FLEET/pids/ssh-$h.pid"
}

# Takes a host off the network for the controller (connections refused) or puts it back: fault injection.
ssh_ctl() {
  local h=$1 action=$2 i=${1#h} port
  port=$((SSH_PORT_BASE + i - 1))
  case "$action" in
    stop) [ -f "$FLEET/pids/ssh-$h.pid" ] && kill_pids "$(cat "$FLEET/pids/ssh-$h.pid")"; rm -f "$FLEET/pids/ssh-$h.pid"
          fuser -k -n tcp "$port" >/dev/null 2>&1 || true ;;
    start) start_ssh "$h" "$i"
           for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
           fail "sshd of $h did not come back on port $port" ;;
    *) fail "usage: fleet.sh sshd HOST stop|start" ;;
  esac
}

up_host() {
  local h=$1 i=$2 d="$FLEET/hosts/$1" ns; ns=$(netns_of "$h")
  mkdir -p "$d"/{etc.upper,etc.work,var.upper,var.work,docker,run,home,root,tmp}
  chmod 1777 "$d/tmp"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  touch "$(mntns_of "$h")"
  nsenter --net="/run/netns/$ns" -- unshare --mount="$(mntns_of "$h")" --propagation private \
    bash -c "$(declare -f mount_host_fs); mount_host_fs '$d'"
  seed_host "$h" "$i"
  host_key "$h"
  start_ssh "$h" "$i" docker
  # The registry through the shared unix socket.
  nsenter --net="/run/netns/$ns" -- socat "TCP-LISTEN:$REGISTRY_PORT,bind=127.0.0.1,reuseaddr,fork" \
    "UNIX-CONNECT:$FLEET/registry.sock" >/dev/null 2>&1 &
  echo $! > "$FLEET/pids/registry-$h.pid"
}

# Inside h1's network only: every host's sshd, for connections that jump through h1.
bastion_listeners() {
  local n=$1 i
  for i in $(seq 1 "$n"); do
    nsenter --net="/run/netns/$(netns_of h1)" -- \
      tini -s -- socat "TCP-LISTEN:$((BASTION_PORT_BASE + i)),bind=127.0.0.1,reuseaddr,fork" \
      "EXEC:nsenter --mount=$(mntns_of "h$i") --net=/run/netns/$(netns_of "h$i") -- /etc/ssh/hdh-sshd" \
      >/dev/null 2>&1 &
    echo $! > "$FLEET/pids/bastion-h$i.pid"
  done
}

wait_docker() {
  local h=$1
  for _ in $(seq 1 150); do
    docker -H "unix://$(docker_sock "$h")" version >/dev/null 2>&1 && return 0; sleep 0.2
  done
  tail -20 "$FLEET/hosts/$h/var.upper/log/docker.log" >&2 || true
  fail "$h: dockerd did not become ready (log above)"
}

registry_has() {
  curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/$1/manifests/$2"
}

# A tiny test image (busybox) and our authorization plugin, pushed once; the registry keeps them across fleets.
seed_registry() {
  local sock; sock="unix://$(docker_sock h1)"
  if ! registry_has hdh/busybox 1; then
    say "pushing localhost:$REGISTRY_PORT/hdh/busybox:1"
    local rootfs; rootfs=$(mktemp -d)
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
    cp /bin/busybox "$rootfs/bin/busybox"
    for a in sh ls cat echo id sleep true false touch mkdir rm ps wget env; do ln -s busybox "$rootfs/bin/$a"; done
    printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$rootfs/etc/passwd"
    tar -C "$rootfs" -c . |
      docker -H "$sock" import -c 'CMD ["/bin/sh"]' - "localhost:$REGISTRY_PORT/hdh/busybox:1" >/dev/null
    rm -rf "$rootfs"
    docker -H "$sock" push -q "localhost:$REGISTRY_PORT/hdh/busybox:1" >/dev/null
    docker -H "$sock" rmi "localhost:$REGISTRY_PORT/hdh/busybox:1" >/dev/null
  fi
  local version sources; version=$(cat "$ROOT/plugin/VERSION" 2>/dev/null || true)
  # The registry outlives fleets: push again whenever the plugin's sources changed, not only for a new version.
  sources=$(cd "$ROOT/plugin" && find . -path ./dist -prune -o -type f -print | sort | xargs sha256sum |
    sha256sum | cut -d' ' -f1)
  if [ -n "$version" ] && [ -x "$ROOT/plugin/push.sh" ] \
    && { ! registry_has hdh/opa-authz "$version" \
      || [ "$(cat "$FLEET/registry/plugin.sources" 2>/dev/null)" != "$sources" ]; }; then
    say "pushing localhost:$REGISTRY_PORT/hdh/opa-authz:$version"
    DOCKER_HOST="$sock" bash "$ROOT/plugin/push.sh" "localhost:$REGISTRY_PORT/hdh/opa-authz:$version" >&2
    echo "$sources" > "$FLEET/registry/plugin.sources"
  fi
}

write_inventory() {
  local n=$1 i h sep=""
  {
    echo '{ "registry": "localhost:'"$REGISTRY_PORT"'", "keyPath": "'"$FLEET/keys/id_ed25519"'",' \
      '"bastion": "h1", "hosts": ['
    for i in $(seq 1 "$n"); do
      h="h$i"
      printf '%s  { "name": "%s", "address": "127.0.0.1", "port": %d, "bastionPort": %d,' \
        "$sep" "$h" $((SSH_PORT_BASE + i - 1)) $((BASTION_PORT_BASE + i))
      printf ' "users": ["root", "deploy"], "hostKey": "%s", "dockerSocket": "%s" }\n' \
        "$(cut -d' ' -f1,2 "$FLEET/keys/host-$h.pub")" "$(docker_sock "$h")"
      sep=","
    done
    echo '] }'
  } > "$FLEET/inventory.json.tmp"
  mv "$FLEET/inventory.json.tmp" "$FLEET/inventory.json"
}

up() {
  local n=${1:-${HDH_FLEET_SIZE:-6}} i
  [ "$(id -u)" = 0 ] || fail "must run as root (network and mount namespaces)"
  for t in docker-registry dockerd sshd socat nsenter unshare tini; do
    command -v "$t" >/dev/null || fail "$t is missing: run npm run setup"
  done
  down >/dev/null 2>&1 || true
  mkdir -p "$FLEET/ns" "$FLEET/pids"
  mount --bind "$FLEET/ns" "$FLEET/ns"; mount --make-private "$FLEET/ns"
  client_key
  start_registry
  for i in $(seq 1 "$n"); do up_host "h$i" "$i"; done
  bastion_listeners "$n"
  for i in $(seq 1 "$n"); do wait_docker "h$i"; done
  seed_registry
  write_inventory "$n"
  say "up: $n hosts, inventory $FLEET/inventory.json"
}

status() {
  local ns h
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX" || true); do
    h=${ns#"$PREFIX"}
    printf '%s docker=%s\n' "$h" \
      "$(docker -H "unix://$(docker_sock "$h")" version -f '{{.Server.Version}}' 2>/dev/null || echo down)"
  done
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) status ;;
  exec) shift; h=$1; shift; in_host "$h" "$@" ;;
  sshd) ssh_ctl "$2" "$3" ;;
  *) fail "usage: fleet.sh up [N] | down | status | exec HOST CMD... | sshd HOST stop|start" ;;
esac
