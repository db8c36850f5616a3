#!/usr/bin/env bash
# Installs everything the test tiers need, pinned. Idempotent; safe to run twice.
#   - Debian: shellcheck, tgt, qemu-system-x86, hyperfine, ovmf, grub-efi-amd64-bin, mtools (bookworm)
#   - iPXE: Debian trixie's ipxe .deb, unpacked into .cache/ipxe (never installed system-wide;
#     bookworm's 2019 iPXE rejects `dhcp --timeout`, which every Outposts script uses)
#   - Python venv .venv: moto (AWS emulator) and cfn-lint
#   - Python venv .venv-scan: checkov (CloudFormation scanner) and parliament (IAM linter), kept
#     apart from .venv because checkov pins its own cfn-lint and boto versions
# apt waits for another apt/dpkg to release its lock (bounded) instead of failing at once.
# Nothing is printed but "setup: done" when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MOTO_VERSION=5.2.5
CFNLINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30
PARLIAMENT_VERSION=1.6.4
# Seconds apt-get waits for the dpkg lock held by another apt before giving up.
APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}
APT=(apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_WAIT")

# pip_has VENV PACKAGE VERSION: the venv has exactly that version installed. Reads pip's
# whole output before matching (a `pip show | grep -q` pipeline fails under pipefail when
# grep exits early and pip gets SIGPIPE, which made every run rebuild the venv).
pip_has() {
  local out
  out=$("$1/bin/pip" show "$2" 2>/dev/null) || return 1
  [[ $'\n'$out$'\n' == *$'\nVersion: '"$3"$'\n'* ]]
}

need_apt=()
for bin in shellcheck tgtd qemu-system-x86_64 hyperfine ip /usr/bin/time grub-mkstandalone mformat; do
  command -v "$bin" >/dev/null 2>&1 || need_apt+=("$bin")
done
# UEFI SAN boot in the sanlab: OVMF firmware, GRUB EFI modules for the token image.
[ -f /usr/share/ovmf/OVMF.fd ] || need_apt+=(ovmf)
[ -d /usr/lib/grub/x86_64-efi ] || need_apt+=(grub-efi-amd64-bin)
python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages (missing: ${need_apt[*]})"
  "${APT[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq --no-install-recommends \
    shellcheck tgt qemu-system-x86 ipxe-qemu hyperfine iproute2 time python3-venv \
    ovmf grub-efi-amd64-bin mtools >/dev/null
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
  "${APT[@]}" "${opts[@]}" update -qq
  (cd "$work" && "${APT[@]}" "${opts[@]}" download ipxe >/dev/null)
  dpkg -x "$work"/ipxe_*.deb "$IPXE_DIR"
  for deb in "$work"/ipxe_*.deb; do echo "setup: ipxe ${deb##*/ipxe_}"; done
  rm -rf "$work"
fi

# Python venv with the AWS emulator and the CloudFormation linter.
VENV=$ROOT/.venv
if [ ! -x "$VENV/bin/moto_server" ] || ! pip_has "$VENV" moto "$MOTO_VERSION" \
   || ! pip_has "$VENV" cfn-lint "$CFNLINT_VERSION"; then
  echo "setup: creating $VENV (moto $MOTO_VERSION, cfn-lint $CFNLINT_VERSION)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cfn-lint==$CFNLINT_VERSION"
fi

# Scanners in their own venv.
SCAN=$ROOT/.venv-scan
if ! pip_has "$SCAN" checkov "$CHECKOV_VERSION" || ! pip_has "$SCAN" parliament "$PARLIAMENT_VERSION"; then
  echo "setup: creating $SCAN (checkov $CHECKOV_VERSION, parliament $PARLIAMENT_VERSION)"
  python3 -m venv "$SCAN"
  "$SCAN/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" "parliament==$PARLIAMENT_VERSION"
fi
echo "setup: done"
