#!/usr/bin/env bash
# Benchmarks: Go benchmarks of the renderers, whole-process timings of `plan`,
# the failover engine against moto, and SAN boots in qemu. Figures, not pass/fail.
#   BENCH_QUICK=1 scripts/bench.sh   skips the qemu and moto parts
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH
BIN=bin/outposts-ha
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/outposts-ha

echo "== Go benchmarks: renderers and validation"
go test -run '^$' -bench . -benchmem -count 1 ./sanboot/... ./wizard/... ./internal/spec/... ./recovery/stack/...

echo
echo "== Whole-process timing: outposts-ha plan (median of 30 runs, 3 warm-up)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ex in examples/*.yaml; do
  name=$(basename "$ex" .yaml)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs 30 --export-json "$tmp/$name.json" \
      "$BIN plan $ex --out $tmp/$name" >/dev/null 2>&1
    python3 - "$tmp/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"plan {sys.argv[2]:<32} median {r['median']*1000:6.1f} ms  min {r['min']*1000:6.1f} ms  max {r['max']*1000:6.1f} ms")
PY
  else
    echo "hyperfine missing: run scripts/setup.sh" >&2
    exit 1
  fi
done
/usr/bin/time -f "plan peak RSS %M KiB" "$BIN" plan examples/ontap-iscsi-chap.yaml --out "$tmp/rss" >/dev/null

echo
echo "== Start-up (issue 17): version, completion bash, plan vs the hello-world and AWS SDK floor; inittrace split"
BIN="$BIN" scripts/bench-startup.sh

if [ "${BENCH_QUICK:-0}" = 1 ]; then exit 0; fi

echo
echo "== Failover engine against moto (decision to RunInstances, AWS calls per failover)"
scripts/with-moto.sh go test -tags integration -run '^$' -bench . -benchtime 10x ./recovery/...

echo
echo "== One unattended setup against moto, the EC2 proxy and a FlashArray model (AWS calls per setup)"
scripts/with-moto.sh go test -tags integration -run '^$' -bench BenchmarkSetupAgainstMoto -benchtime 3x ./wizard/

echo
echo "== Setup inventory against moto behind a 100 ms-per-call latency proxy (concurrent wall vs sum of calls)"
scripts/with-moto.sh go test -tags integration -run '^$' -bench Inventory -benchtime 10x ./internal/outposts/...

echo
echo "== SAN boot in qemu from tgt (boot-to-token, DHCP vs static LNI)"
SANBOOT_E2E=1 go test -tags sanboot_e2e -run '^$' -bench . -benchtime 5x -timeout 15m ./internal/sanlab/...
