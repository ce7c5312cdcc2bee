#!/usr/bin/env bash
# Lines of code stay within 120 columns: TypeScript and JavaScript (Prettier wraps code, not long strings or
# comments), Go (gofmt wraps nothing), shell and Rego (no formatter wraps them). A tab counts as one column.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.ts' '*.js' '*.go' '*.sh' '*.rego' | xargs -0 awk \
  'length > 120 { print FILENAME ":" FNR ": " length " columns (at most 120)"; bad = 1 }
  END { exit bad }'
