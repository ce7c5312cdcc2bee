#!/usr/bin/env bash
# Lints and tests the authorization policy (policies/):
#   1. opa check --strict, as Rego v1 and as Rego v0+v1 (opa-docker-authz builds on OPA 0.x; the policy
#      imports rego.v1 so that it compiles with both);
#   2. opa fmt: fails if any file is not formatted (fix: opa fmt -w policies/);
#   3. opa test: unit tests and the routes table (policies/testdata/routes.json, loaded as data.testdata);
#   4. coverage: prints the percentage and fails below MIN_COVERAGE (default 100);
#   5. rule ids: every `deny` rule carries its id in `# METADATA` (custom.id), and the ids are the rule table
#      the tests know (_all_rules in routes_test.rego).
# OPA: the project's toolchain (.tools/bin/opa), else opa on the PATH. POLICY_DIR picks another folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${POLICY_DIR:-$ROOT/policies}
MIN_COVERAGE=${MIN_COVERAGE:-100}
OPA=${OPA:-}
if [ -z "$OPA" ]; then
  if [ -x "$ROOT/.tools/bin/opa" ]; then OPA=$ROOT/.tools/bin/opa; else OPA=$(command -v opa || true); fi
fi
[ -n "$OPA" ] && [ -x "$OPA" ] \
  || { echo "lint-policy: opa not found: run npm run setup (or set OPA=/path/to/opa)" >&2; exit 1; }

echo "lint-policy: $("$OPA" version | head -1), policy folder $DIR"

"$OPA" check --strict "$DIR"
"$OPA" check --strict --v0-v1 "$DIR"
echo "lint-policy: opa check --strict: ok (Rego v1, and v0+v1)"

unformatted=$("$OPA" fmt --list "$DIR")
if [ -n "$unformatted" ]; then
  "$OPA" fmt --diff "$DIR" || true
  echo "lint-policy: not formatted: $unformatted (fix: opa fmt -w ${DIR#"$ROOT"/})" >&2
  exit 1
fi
echo "lint-policy: opa fmt: ok"

"$OPA" test "$DIR" ${VERBOSE:+-v}

report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$OPA" test --coverage --format=json "$DIR" > "$report"
coverage=$("$OPA" eval --stdin-input --format raw 'input.coverage' < "$report")
echo "lint-policy: coverage: ${coverage}%"
uncovered_query='concat("\n", sort([sprintf("  %s:%d", [file, r.start.row]) | some file, f in input.files;'
uncovered_query+=' some r in object.get(f, "not_covered", [])]))'
uncovered=$("$OPA" eval --stdin-input --format raw "$uncovered_query" < "$report")
[ -n "$uncovered" ] && printf 'lint-policy: lines not covered:\n%s\n' "$uncovered"
awk -v c="$coverage" -v min="$MIN_COVERAGE" 'BEGIN { exit !(c + 0 >= min + 0) }' \
  || { echo "lint-policy: coverage ${coverage}% is below ${MIN_COVERAGE}%" >&2; exit 1; }

# Each refusal names its rule from the rule's annotations: a deny rule without custom.id would say "unnamed".
rules=$(cat "$DIR"/*.rego | grep -c '^deny contains' || true)
ids=$("$OPA" inspect -a --format json "$DIR" | "$OPA" eval --stdin-input --format raw \
  'concat(" ", sort({a.annotations.custom.id | some a in input.annotations; a.path[3].value == "deny"}))')
named=$("$OPA" inspect -a --format json "$DIR" | "$OPA" eval --stdin-input --format raw \
  'count([a | some a in input.annotations; a.path[3].value == "deny"; is_string(a.annotations.custom.id)])')
known=$("$OPA" eval --format raw -d "$DIR" 'concat(" ", sort(data.docker.authz_test._all_rules))')
[ "$named" = "$rules" ] \
  || { echo "lint-policy: $rules deny rules, $named with # METADATA custom.id (fix: annotate each)" >&2; exit 1; }
[ "$ids" = "$known" ] || {
  echo "lint-policy: rule ids in # METADATA ($ids) differ from _all_rules in routes_test.rego ($known)" >&2; exit 1
}
echo "lint-policy: rule ids: $rules deny rules, each with custom.id; $(echo "$ids" | wc -w) ids, as in _all_rules"
