#!/usr/bin/env bash
# Start-up figures (issue 17), whole processes, median of 20 (hyperfine -N, 3 warm-up):
#   - outposts-ha version / completion bash, next to the floor: a hello-world Go
#     binary and a binary that links only the AWS SDK packages outposts-ha links,
#     both built with the same flags as bin/outposts-ha;
#   - outposts-ha plan on each example;
#   - GODEBUG=inittrace=1 totals of `version`, split into the project's packages,
#     the AWS SDK (github.com/aws/...) and other dependencies (median of 20 runs).
# Called at the end of scripts/bench.sh; runs alone too. Figures, not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/outposts-ha}
[ -x "$BIN" ] || go build -trimpath -ldflags "-X main.version=bench" -o "$BIN" ./cmd/outposts-ha
command -v hyperfine >/dev/null || { echo "hyperfine missing: run scripts/setup.sh" >&2; exit 1; }
RUNS=${STARTUP_RUNS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
module=$(go list -m)

# The floor: hello world, and the AWS SDK packages alone, same build flags.
mkdir -p "$tmp/hello" "$tmp/sdkonly"
cat > "$tmp/hello/main.go" <<'GO'
package main

import "fmt"

func main() { fmt.Println("hello") }
GO
(cd "$tmp/hello" && GO111MODULE=on GOFLAGS="" go mod init hello >/dev/null 2>&1 &&
  go build -trimpath -ldflags "-X main.version=bench" -o "$tmp/hello-bin" .)
# Same go.mod (so the same SDK versions), another module path; no network.
sed "s#^module .*#module sdkonly#" go.mod > "$tmp/sdkonly/go.mod"
cp go.sum "$tmp/sdkonly/go.sum"
{
  echo "package main"
  echo
  echo "import ("
  go list -deps ./cmd/outposts-ha | grep '^github.com/aws/' | grep -v '/internal' | sed 's/.*/\t_ "&"/'
  echo ")"
  echo
  echo "func main() {}"
} > "$tmp/sdkonly/main.go"
(cd "$tmp/sdkonly" && GOFLAGS=-mod=mod GOPROXY=off go build -trimpath -ldflags "-X main.version=bench" -o "$tmp/sdk-bin" .)

median() { # $1 name, $2.. command (no shell)
  local name=$1; shift
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/h.json" "$*" >/dev/null 2>&1
  python3 - "$tmp/h.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{sys.argv[2]:<44} median {r['median']*1000:6.2f} ms  min {r['min']*1000:6.2f} ms  max {r['max']*1000:6.2f} ms")
PY
}

echo
echo "== Start-up: whole process, median of $RUNS runs (hyperfine -N)"
median "floor: hello world (same build flags)" "$tmp/hello-bin"
median "floor: AWS SDK packages alone (same flags)" "$tmp/sdk-bin"
median "outposts-ha version" "$BIN" version
median "outposts-ha completion bash" "$BIN" completion bash
for ex in examples/*.yaml; do
  name=$(basename "$ex" .yaml)
  median "outposts-ha plan $name" "$BIN" plan "$ex" --out "$tmp/plan-$name"
done

echo
echo "== Package init (GODEBUG=inittrace=1), median over $RUNS runs of each binary"
inittrace() { # $1 label, $2.. command
  local label=$1; shift
  : > "$tmp/trace"
  for _ in $(seq "$RUNS"); do
    GODEBUG=inittrace=1 "$@" 2>&1 >/dev/null | grep '^init ' >> "$tmp/trace"
    echo "--" >> "$tmp/trace"
  done
  python3 - "$tmp/trace" "$label" "$module" <<'PY'
import re, statistics, sys
path, label, module = sys.argv[1:4]
line = re.compile(r"^init (\S+) @\S+ ms, (\S+) ms clock, (\d+) bytes, (\d+) allocs$")
def group(pkg):
    if pkg.startswith(module + "/") or pkg == module or pkg == "main":
        return "project"
    if pkg.startswith("github.com/aws/"):
        return "AWS SDK"
    return "other deps"
runs, cur = [], {}
for l in open(path):
    if l.strip() == "--":
        runs.append(cur); cur = {}
        continue
    m = line.match(l.strip())
    if m:
        g = group(m.group(1))
        ms, b, n = cur.get(g, (0.0, 0, 0))
        cur[g] = (ms + float(m.group(2)), b + int(m.group(3)), n + int(m.group(4)))
for g in ("project", "AWS SDK", "other deps"):
    vals = [r.get(g, (0.0, 0, 0)) for r in runs]
    ms = statistics.median(v[0] for v in vals)
    b, n = vals[0][1], vals[0][2]
    print(f"{label:<26} {g:<11} init {ms:6.2f} ms  {b/1024:8.1f} KiB  {n:6d} allocs")
tot = statistics.median(sum(v[0] for v in r.values()) for r in runs)
print(f"{label:<26} {'all':<11} init {tot:6.2f} ms")
PY
}
inittrace "outposts-ha version" "$BIN" version
inittrace "AWS SDK packages alone" "$tmp/sdk-bin"
echo "(a package appears in inittrace only if it has init work; bytes/allocs are deterministic, times are not)"
