#!/usr/bin/env bash
# Short fuzz runs of every fuzz target in the module, FUZZTIME each (default 50000x).
# Go runs one fuzz target per invocation, so this walks them one by one.
#
# The budget is a count of executions, not a duration: a duration-based -fuzztime can fail
# with a bare "context deadline exceeded" and no crasher when the machine is loaded (a race
# in Go's fuzz coordinator, https://go.dev/issue/75804). A count has no deadline to race, so
# load only makes the run slower. -timeout still bounds a real hang.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-50000x}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10m}
n=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  while read -r target; do
    [ -n "$target" ] || continue
    echo "fuzz: $pkg $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -timeout "$FUZZ_TIMEOUT" "$pkg" >/tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; rm -f /tmp/fuzz.$$.log; exit 1; }
    tail -1 /tmp/fuzz.$$.log
    n=$((n + 1))
  done < <(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u)
done
rm -f /tmp/fuzz.$$.log
if [ "$n" -eq 0 ]; then echo "fuzz: no fuzz targets found" >&2; exit 1; fi
echo "fuzz: $n targets passed"
