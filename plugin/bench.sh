#!/usr/bin/env bash
# Prints the plugin's decision latency for a typical containers/create:
# p50/p90/p99 over the unix socket and inside the handler, then the Go
# benchmarks. Figures only, nothing asserted.
# Env: POLICY_DIR (default: the project's policies/ if it has .rego files,
# else plugin/testdata/policy), LATENCY_N (samples, default 2000),
# BENCHTIME (go test -benchtime, default 3000x).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
LATENCY_REPORT=1 go test -count=1 -run '^TestLatencyReport$' -v ./internal/authz/ \
  | sed -n 's/^ *bench_test.go:[0-9]*: //p'
go test -count=1 -run '^$' -bench . -benchtime "${BENCHTIME:-3000x}" -benchmem ./internal/authz/ \
  | grep '^Benchmark'
