#!/usr/bin/env bash
# Installs everything the test tiers need, pinned. Idempotent; safe to run twice.
#   - Debian: shellcheck, tgt, qemu-system-x86, hyperfine (bookworm)
#   - iPXE: Debian trixie's ipxe .deb, unpacked into .cache/ipxe (never installed system-wide;
#     bookworm's 2019 iPXE rejects `dhcp --timeout`, which every Outposts script uses)
#   - Python venv .venv: moto (AWS emulator) and cfn-lint
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MOTO_VERSION=5.2.5
CFNLINT_VERSION=1.58.0

need_apt=()
for bin in shellcheck tgtd qemu-system-x86_64 hyperfine ip /usr/bin/time; do
  command -v "$bin" >/dev/null 2>&1 || need_apt+=("$bin")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages (missing: ${need_apt[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    shellcheck tgt qemu-system-x86 ipxe-qemu hyperfine iproute2 time >/dev/null
fi

# Recent iPXE from trixie, unpacked privately.
IPXE_DIR=$ROOT/.cache/ipxe
if [ ! -f "$IPXE_DIR/usr/lib/ipxe/ipxe.lkrn" ]; then
  echo "setup: fetching trixie's ipxe into $IPXE_DIR"
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/archives/partial" "$IPXE_DIR"
  cat >"$work/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  opts=(-o "Dir::Etc::SourceList=$work/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
        -o APT::Get::List-Cleanup=0)
  apt-get "${opts[@]}" update -qq
  (cd "$work" && apt-get "${opts[@]}" download ipxe >/dev/null)
  dpkg -x "$work"/ipxe_*.deb "$IPXE_DIR"
  for deb in "$work"/ipxe_*.deb; do echo "setup: ipxe ${deb##*/ipxe_}"; done
  rm -rf "$work"
fi

# Python venv with the AWS emulator and the CloudFormation linter.
VENV=$ROOT/.venv
if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/pip" show moto 2>/dev/null | grep -q "^Version: $MOTO_VERSION$" \
   || ! "$VENV/bin/pip" show cfn-lint 2>/dev/null | grep -q "^Version: $CFNLINT_VERSION$"; then
  echo "setup: creating $VENV (moto $MOTO_VERSION, cfn-lint $CFNLINT_VERSION)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cfn-lint==$CFNLINT_VERSION"
fi
echo "setup: done"
