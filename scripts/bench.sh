#!/usr/bin/env bash
# Benchmarks (figures printed, nothing asserted):
#   1. the plugin's decision latency (p50/p90/p99) and opa bench of the policy for a typical containers/create;
#   2. Docker API latency on a fleet host with and without the plugin: through the CLI (200 `docker ps`, 50
#      `docker create`), and per API call from one curl over one connection (500 reads, 100 creates);
#   3. pulumi on fleets of each size: first up (default rollout, and one batch of all hosts), no-op up with and
#      without preview, preview, refresh; wall time, SSH connections and commands per host (counted on the
#      hosts' side), Docker restarts, hosts written to, and peak memory of the CLI with its plugins.
#
#   npm run bench -- [--hosts 1,8,20] [--no-plugin]
# Brings up each fleet size itself (scripts/fleet.sh up N) and leaves a fleet of the last size.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/env.sh
SIZES=3
PLUGIN=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) SIZES=$2; shift 2 ;;
    --no-plugin) PLUGIN=no; shift ;;
    *) echo "bench: unknown argument $1. Fix: npm run bench -- [--hosts 1,8,20] [--no-plugin]" >&2; exit 2 ;;
  esac
done
STACK=bench-$$
cleanup() {
  pulumi destroy --yes --stack "$STACK" >/dev/null 2>&1 || true
  pulumi stack rm --yes --force --stack "$STACK" >/dev/null 2>&1 || true
}
trap cleanup EXIT

ms() { date +%s%N; }
elapsed_ms() { echo $(( ($(ms) - $1) / 1000000 )); }
hosts_of() { node -e 'for (const h of require("./.fleet/inventory.json").hosts) console.log(h.name)'; }

# Peak resident memory (MB) of a process and all its descendants, sampled every 100 ms while it runs.
peak_rss_mb() {
  local root=$1 peak=0 now
  while kill -0 "$root" 2>/dev/null; do
    now=$(ps -e -o pid=,ppid=,rss= | awk -v root="$root" '
      { parent[$1] = $2; rss[$1] = $3 }
      END {
        for (p in rss) { q = p; while (q != "" && q != 0 && q != root) q = parent[q]; if (q == root) sum += rss[p] }
        print int(sum / 1024)
      }')
    [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.1
  done
  echo "$peak"
}

# Before a phase: empty each host's SSH log, mark the time (for files written), remember Docker's restarts.
host_mark() {
  local h
  for h in $(hosts_of); do
    bash scripts/fleet.sh exec "$h" sh -c ': > /var/log/hdh-ssh.log; touch /tmp/hdh-bench-mark
      cat /var/lib/hardened-docker-host/restarts.log 2>/dev/null | wc -l' > "/tmp/hdh-bench-restarts-$h"
  done
}
# After a phase: "max connections/host, max commands/host, restarts, hosts written to".
host_counts() {
  local h conn=0 cmd=0 restarts=0 written=0 c k r w
  for h in $(hosts_of); do
    read -r c k r w < <(bash scripts/fleet.sh exec "$h" \
      sh -c 'printf "%s %s %s %s\n" "$(grep -c "^connection" /var/log/hdh-ssh.log)" \
      "$(grep -c "^command" /var/log/hdh-ssh.log)" \
      "$(cat /var/lib/hardened-docker-host/restarts.log 2>/dev/null | wc -l)" \
      "$(find /etc/docker /etc/subuid /etc/subgid /var/lib/hardened-docker-host -newer /tmp/hdh-bench-mark -type f \
        2>/dev/null | wc -l)"')
    [ "$c" -gt "$conn" ] && conn=$c
    [ "$k" -gt "$cmd" ] && cmd=$k
    restarts=$(( restarts + r - $(cat "/tmp/hdh-bench-restarts-$h") ))
    [ "$w" -gt 0 ] && written=$(( written + 1 ))
  done
  echo "$conn $cmd $restarts $written"
}

# One measured pulumi command: prints a table row. `phase -n 3 LABEL ARGS...` runs a phase that changes
# nothing 3 times and prints the median wall time (the hosts of a fresh fleet settle at different speeds; one
# run on 2 shared cores varies by a second); SSH counts and memory are the most any run saw.
phase() {
  local runs=1 label t pid peak rc=0 walls=() i conn=0 cmd=0 restarts=0 written=0 c k r w maxpeak=0
  if [ "$1" = -n ]; then runs=$2; shift 2; fi
  label=$1
  shift
  for ((i = 0; i < runs; i++)); do
    host_mark
    t=$(ms)
    pulumi "$@" --stack "$STACK" >"/tmp/hdh-bench-$$.log" 2>&1 &
    pid=$!
    peak=$(peak_rss_mb "$pid")
    wait "$pid" || rc=$?
    walls+=("$(elapsed_ms "$t")")
    read -r c k r w < <(host_counts)
    [ "$c" -gt "$conn" ] && conn=$c
    [ "$k" -gt "$cmd" ] && cmd=$k
    restarts=$(( restarts + r )); written=$(( written > w ? written : w ))
    [ "$peak" -gt "$maxpeak" ] && maxpeak=$peak
  done
  local wall; wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  printf "  %-50s %8.1f s  %5s  %5s  %8s  %7s  %6s MB%s\n" "$label$([ "$runs" -gt 1 ] && echo " (median of $runs)")" \
    "$(awk -v w="$wall" 'BEGIN { print w / 1000 }')" "$conn" "$cmd" "$restarts" "$written" "$maxpeak" \
    "$([ $rc -ne 0 ] && echo "  (exit $rc: tail /tmp/hdh-bench-$$.log)")"
}

if [ "$PLUGIN" = yes ]; then
  echo "== 1. decision latency (plugin, policies/)"
  POLICY_DIR="$ROOT/policies" bash plugin/bench.sh
  echo "-- opa bench: data.docker.authz.allow for a typical containers/create"
  opa bench --format pretty -c 1 --count 1 -d policies/ --input policies/testdata/create-input.json \
    'data.docker.authz.allow' 2>/dev/null \
    | grep -E "ns/op|samples|histogram_timer_rego_query_eval_ns_(p50|p99|mean)" || true
fi

echo "== 3. pulumi on local fleets ($(nproc) cores; SSH per host: the most any host saw)"
for n in ${SIZES//,/ }; do
  bash scripts/fleet.sh up "$n" >/dev/null 2>&1
  pulumi stack init "$STACK" >/dev/null
  pulumi config set --stack "$STACK" inventory .fleet/inventory.json
  [ "$n" -ge 2 ] && pulumi config set --stack "$STACK" --path users.h2 deploy
  pulumi config set --stack "$STACK" --path 'daemonConfig.insecure-registries[0]' localhost:5000
  echo "-- $n host(s)"
  printf "  %-50s %10s  %5s  %5s  %8s  %7s  %9s\n" "phase" "wall" "conn" "cmds" "restarts" "written" "peak RSS"
  phase "first up (default rollout)" up --yes --skip-preview
  phase -n 3 "no-op up --skip-preview" up --yes --skip-preview
  phase -n 3 "no-op up (with preview)" up --yes
  phase -n 3 "preview, no changes" preview
  phase -n 3 "refresh" refresh --yes --skip-preview
  phase "destroy" destroy --yes --skip-preview
  pulumi config set --stack "$STACK" --path 'rollout.batches[0]' 100%
  phase "first up (one batch of all hosts)" up --yes --skip-preview
  phase -n 3 "no-op up --skip-preview (one batch)" up --yes --skip-preview
  phase "destroy" destroy --yes --skip-preview
  pulumi stack rm --yes --force --stack "$STACK" >/dev/null
done

if [ "$PLUGIN" = yes ]; then
  echo "== 2. Docker API latency on h1, with and without the plugin"
  pulumi stack init "$STACK" >/dev/null
  # shellcheck disable=SC2046 # one argument per line
  pulumi config set-all --stack "$STACK" --path $(node -e 'const i = require("./.fleet/inventory.json"), h = i.hosts[0];
    for (const [k, v] of Object.entries({ name: h.name, host: h.address, port: h.port, privateKeyPath: i.keyPath }))
      console.log(`--plaintext\nhosts[0].${k}=${v}`)')
  pulumi config set --stack "$STACK" --path 'hosts[0].hostKey' \
    "$(node -e 'console.log(require("./.fleet/inventory.json").hosts[0].hostKey)')"
  pulumi config set --stack "$STACK" --path 'daemonConfig.insecure-registries[0]' localhost:5000
  pulumi up --yes --skip-preview --stack "$STACK" >/dev/null
  sock=$(node -e 'console.log(require("./.fleet/inventory.json").hosts[0].dockerSocket)')
  img=localhost:5000/hdh/busybox:1
  d() { docker -H "unix://$sock" "$@"; }
  d pull -q "$img" >/dev/null
  measure() {
    local t n=200
    t=$(ms); for _ in $(seq $n); do d ps -q >/dev/null; done
    echo "  $1: docker ps     $(( $(elapsed_ms "$t") * 1000 / n )) us/call ($n calls)"
    n=50; t=$(ms); for _ in $(seq $n); do d create -q --user 1000 "$img" true >/dev/null; done
    echo "  $1: docker create $(( $(elapsed_ms "$t") * 1000 / n )) us/call ($n calls)"
    d ps -aq | xargs -r docker -H "unix://$sock" rm -f >/dev/null
    api "$1" GET /containers/json 500
    api "$1" POST /containers/create 100 "{\"Image\":\"$img\",\"User\":\"1000\",\"Cmd\":[\"true\"]}"
    d ps -aq | xargs -r docker -H "unix://$sock" rm -f >/dev/null
  }
  # The API call itself, without a CLI start in each: one curl, one kept-alive connection, N requests, each timed.
  api() { # LABEL METHOD PATH N [BODY]
    local urls=() i
    for ((i = 0; i < $4; i++)); do urls+=(-o /dev/null "http://docker/v1.41$3"); done # -o: one per URL
    curl -s --unix-socket "$sock" -X "$2" ${5:+-H 'Content-Type: application/json' -d "$5"} \
      -w '%{time_total} %{http_code}\n' "${urls[@]}" | sort -n | awk -v label="$1" -v what="$2 $3" '
        $2 !~ /^2/ { bad++ } { t[NR] = $1 * 1000 }
        END { printf "  %s: %-21s p50 %.2f ms, p99 %.2f ms (%d calls, one connection)%s\n", label, what,
          t[int(NR * 0.5)], t[int(NR * 0.99)], NR, bad ? sprintf(" -- %d NOT answered 2xx: not comparable", bad) : "" }'
  }
  # By process name: a command line that mentions opa-authz (this one's shell) is not the plugin. The fleet's hosts
  # share one PID namespace; only h1 runs the plugin at this point.
  plugin_rss() {
    bash scripts/fleet.sh exec h1 sh -c 'for p in $(pgrep -x opa-authz); do grep VmRSS /proc/$p/status; done' |
      awk '{ s += $2 } END { printf "%.1f MB", s / 1024 }'
  }
  # dockerd reloads asynchronously: wait until the plugin refuses (present) or no longer refuses (absent) a request
  # every policy refuses and that changes nothing (Docker's info does not list plugins of this kind).
  authz_is() {
    local i answer
    for ((i = 0; i < 100; i++)); do
      answer=$(curl -s --unix-socket "$sock" -X POST http://docker/v1.41/plugins/hdh-authorization-probe/disable) ||
        answer=""
      case "$answer" in
        *"authorization denied"*) [ "$1" = present ] && return 0 ;;
        *) [ "$1" = absent ] && return 0 ;;
      esac
      sleep 0.1
    done
    echo "bench: the authorization plugin is not $1 on h1 after 10 s" >&2; return 1
  }
  measure "with plugin   "
  loaded=$(plugin_rss)
  cfg=$(bash scripts/fleet.sh exec h1 cat /etc/docker/daemon.json)
  bash scripts/fleet.sh exec h1 sh -c 'sed -i "/\"authorization-plugins\"/,/],/d" /etc/docker/daemon.json &&
    kill -HUP $(cat /var/run/docker.pid)'
  authz_is absent
  measure "without plugin"
  printf '%s\n' "$cfg" | bash scripts/fleet.sh exec h1 \
    sh -c 'cat > /etc/docker/daemon.json && kill -HUP $(cat /var/run/docker.pid)'
  authz_is present
  # The plugin gives free memory back after 2 s without requests (-release-idle): both figures.
  echo "-- plugin RSS on h1: $loaded right after the calls with it, $(plugin_rss) idle (out of the request path since)"
fi
