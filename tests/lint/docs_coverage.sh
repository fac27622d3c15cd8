#!/usr/bin/env bash
# Keeps docs/ true to the code: every config key the loader accepts must be in docs/config.md and
# every metric family /metrics can expose in docs/metrics.md, and neither may document a key or a
# family the code lacks. The keys and families are read from the sources, not from a list kept
# here: docs_coverage.py says how, and where that reading stops (its docstring).
# Usage: docs_coverage.sh [REPO_ROOT]
set -u
root=${1:-.}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null 2>&1; then
  echo "docs coverage: python3 is needed (scripts/install-deps.sh installs it)"
  exit 1
fi
python3 "$here/docs_coverage.py" "$root"
