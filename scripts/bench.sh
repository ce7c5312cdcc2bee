#!/usr/bin/env bash
# Benchmarks (figures printed, nothing asserted):
#   1. the plugin's decision latency (p50/p90/p99) and opa bench of the policy for a typical containers/create;
#   2. Docker API latency on a fleet host with and without the plugin (200 `docker ps`, 50 `docker create`);
#   3. pulumi up of the fleet: first up and no-op up times, SSH connections and commands per host per run.
# Needs the fleet (npm run fleet:up); uses its own stack and destroys it afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/env.sh
[ -f .fleet/inventory.json ] || bash scripts/fleet.sh up 3
STACK=bench-$$
STATS=$(mktemp)
export HDH_SSH_STATS_FILE=$STATS
cleanup() { pulumi destroy --yes --stack "$STACK" >/dev/null 2>&1 || true; pulumi stack rm --yes --force --stack "$STACK" >/dev/null 2>&1 || true; rm -f "$STATS"; }
trap cleanup EXIT

echo "== 1. decision latency (plugin, policies/)"
POLICY_DIR="$ROOT/policies" bash plugin/bench.sh
echo "-- opa bench: data.docker.authz.allow for a typical containers/create"
opa bench --format pretty -c 1 --count 1 -d policies/ --input policies/testdata/create-input.json 'data.docker.authz.allow' 2>/dev/null \
  | grep -E "ns/op|samples|histogram_timer_rego_query_eval_ns_(p50|p99|mean)" || true

ms() { date +%s%N; }
elapsed_ms() { echo $(( ($(ms) - $1) / 1000000 )); }
ssh_stats() { # per host: connections and commands since the last call
  sort "$STATS" | uniq -c | awk '{ printf "    %s %s: %d\n", $2, $3, $1 }'; : > "$STATS"
}

echo "== 3. pulumi up of the fleet (3 hosts)"
pulumi stack init "$STACK" >/dev/null
cp Pulumi.dev.yaml "Pulumi.$STACK.yaml"
t=$(ms); pulumi up --yes --stack "$STACK" >/dev/null; echo "  first up: $(elapsed_ms "$t") ms"; ssh_stats
t=$(ms); pulumi up --yes --stack "$STACK" >/dev/null; echo "  no-op up: $(elapsed_ms "$t") ms"; ssh_stats
t=$(ms); pulumi preview --stack "$STACK" >/dev/null; echo "  preview (no changes): $(elapsed_ms "$t") ms"; ssh_stats
t=$(ms); pulumi refresh --yes --stack "$STACK" >/dev/null; echo "  refresh: $(elapsed_ms "$t") ms"; ssh_stats

echo "== 2. Docker API latency on h1, with and without the plugin"
sock=$(node -e 'console.log(require("./.fleet/inventory.json").hosts[0].dockerSocket)')
img=localhost:5000/hdh/busybox:1
d() { docker -H "unix://$sock" "$@"; }
d pull -q "$img" >/dev/null
measure() {
  local t n=200
  t=$(ms); for _ in $(seq $n); do d ps -q >/dev/null; done; echo "  $1: docker ps     $(( $(elapsed_ms "$t") * 1000 / n )) us/call ($n calls)"
  n=50; t=$(ms); for _ in $(seq $n); do d create -q --user 1000 "$img" true >/dev/null; done
  echo "  $1: docker create $(( $(elapsed_ms "$t") * 1000 / n )) us/call ($n calls)"
  d ps -aq | xargs -r docker -H "unix://$sock" rm -f >/dev/null
}
measure "with plugin   "
cfg=$(bash scripts/fleet.sh exec h1 cat /etc/docker/daemon.json)
bash scripts/fleet.sh exec h1 sh -c 'sed -i "/\"authorization-plugins\"/,/],/d" /etc/docker/daemon.json && kill -HUP $(cat /var/run/docker.pid) && sleep 1'
measure "without plugin"
printf '%s\n' "$cfg" | bash scripts/fleet.sh exec h1 sh -c 'cat > /etc/docker/daemon.json && kill -HUP $(cat /var/run/docker.pid) && sleep 1'
rm -f "Pulumi.$STACK.yaml.bak"
