#!/usr/bin/env bash
# Runs a command with a private moto server on loopback and the AWS environment
# pointing at it. The server is stopped (by PID) when the command ends.
#   scripts/with-moto.sh go test -tags integration ./...
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOTO=$ROOT/.venv/bin/moto_server
if [ ! -x "$MOTO" ]; then
  echo "with-moto: $MOTO missing: run scripts/setup.sh" >&2
  exit 1
fi
port=${MOTO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')}
log=$(mktemp /tmp/moto.XXXXXX.log)
"$MOTO" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/reset', data=b'', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; echo "with-moto: moto exited" >&2; exit 1; fi
  sleep 0.1
done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE || true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
echo "with-moto: moto on $AWS_ENDPOINT_URL (pid $pid)"
"$@"
