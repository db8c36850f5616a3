#!/usr/bin/env bash
# Mutation testing with gremlins (pinned) on the packages whose tests must catch
# what they claim: sanboot, internal/spec and the storage clients. Not part of
# `make test` or CI: it is slow (every covered mutant re-runs its package's tests).
#
#   scripts/mutation.sh                    # sanboot, internal/spec, internal/storage/...
#   scripts/mutation.sh sanboot            # one package folder (no /...)
#   MUTATION_TREE=work scripts/mutation.sh # the working tree instead of HEAD
#
# By default it mutates a snapshot of HEAD (git archive into a temporary folder),
# so edits in progress in the working tree neither break the run nor get mutated,
# and gremlins' per-worker copies stay small (no .venv, no .cache). Results:
# out/mutation/<package>.json (gremlins' machine-readable report) and .log, and
# one summary line per package: killed, lived, not covered, timed out, and the
# efficacy (killed / (killed + lived)) that the goal (>= 90%) is measured on.
set -euo pipefail
GREMLINS_VERSION=v0.6.0
WORKERS=${MUTATION_WORKERS:-1}
TIMEOUT_COEFFICIENT=${MUTATION_TIMEOUT_COEFFICIENT:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/out/mutation"
mkdir -p "$out"

if [ "$#" -gt 0 ]; then
  pkgs=("$@")
else
  pkgs=(sanboot internal/spec)
  while read -r d; do pkgs+=("${d#"$root"/}"); done < <(cd "$root" && go list -f '{{.Dir}}' ./internal/storage/...)
fi

if [ "${MUTATION_TREE:-head}" = work ]; then
  src="$root"
else
  src=$(mktemp -d "${TMPDIR:-/tmp}/oha-mutation.XXXXXX")
  trap 'rm -rf "$src"' EXIT
  git -C "$root" archive --format=tar HEAD | tar -x -C "$src"
fi

# Build gremlins once (pinned). `go install pkg@version` resolves it through the
# Go module proxy like `go run pkg@version` would, and never touches go.mod.
bin="$out/gremlins-$GREMLINS_VERSION"
if [ ! -x "$bin" ]; then
  GOBIN="$out/bin" go install "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION"
  mv "$out/bin/gremlins" "$bin"
fi

status=0
for pkg in "${pkgs[@]}"; do
  name=${pkg//\//_}
  echo "mutation: $pkg (gremlins $GREMLINS_VERSION, $WORKERS worker(s))"
  if ! (cd "$src" && "$bin" unleash --workers "$WORKERS" --timeout-coefficient "$TIMEOUT_COEFFICIENT" \
    -o "$out/$name.json" "./$pkg") >"$out/$name.log" 2>&1; then
    echo "mutation: gremlins failed on $pkg; see $out/$name.log" >&2
    tail -5 "$out/$name.log" >&2
    status=1
    continue
  fi
  python3 - "$pkg" "$out/$name.json" <<'EOF'
import json, sys
pkg, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
count = {}
for f in d.get("files", []):
    for m in f.get("mutations", []):
        count[m["status"]] = count.get(m["status"], 0) + 1
k, l = count.get("KILLED", 0), count.get("LIVED", 0)
nc, to, nv = count.get("NOT COVERED", 0), count.get("TIMED OUT", 0), count.get("NOT VIABLE", 0)
eff = 100.0 * k / (k + l) if k + l else 0.0
print(f"mutation: {pkg}: killed {k}, lived {l}, not covered {nc}, timed out {to}, not viable {nv}; "
      f"efficacy {eff:.1f}% of covered mutants (goal >= 90%)")
EOF
  grep -E '^ *LIVED' "$out/$name.log" | sed 's/^/  /' || true
done
exit "$status"
