#!/usr/bin/env bash
# Lines of TypeScript and JavaScript stay within 120 columns (Prettier wraps code, not long strings or comments).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.ts' '*.js' | xargs -0 awk 'length > 120 { print FILENAME ":" FNR ": " length " columns (at most 120)"; bad = 1 }
  END { exit bad }'
