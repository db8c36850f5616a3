package sanboot

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Markers the guest scripts print, so that console scrapers, SSM output and
// tests can find the outcome. The OK line is the last thing a script prints on
// success; the FAILED line names the step that stopped it.
const (
	DataVolumesOKMarker     = "OUTPOSTS-HA-DATA-VOLUMES-OK"
	DataVolumesFailedMarker = "OUTPOSTS-HA-DATA-VOLUMES-FAILED"
)

// Limits on what one data-volume script attaches. They keep the rendered user
// data well inside the EC2 limit and catch a pasted list gone wrong.
const (
	MaxTargets        = 8
	MaxPortals        = 8
	MaxVolumesPerHost = 64
	// MaxNSID is the largest valid NVMe namespace ID (0xFFFFFFFF is the broadcast value).
	MaxNSID = 0xFFFFFFFE
)

// ISCSIVolumes describes the iSCSI data volumes a guest attaches after boot.
type ISCSIVolumes struct {
	// InitiatorIQN is the workload's one iSCSI identity: the IQN the iPXE script
	// booted with, when the instance SAN-boots. The script sets it only when the
	// guest has a different one, and never invents a new one.
	InitiatorIQN string
	Targets      []ISCSITarget
	// BootTargetIQN is the target the instance SAN-booted from, if any. A data
	// target with this IQN already has a session (the boot session), which
	// carries its data LUNs too: the script rescans that session and opens no
	// new one, because a second session would give the running root LUN a path
	// that nothing manages. UserData fills it in from the iPXE description.
	BootTargetIQN string
}

// ISCSITarget is one iSCSI target and the LUNs it maps to the initiator.
type ISCSITarget struct {
	IQN string
	// Portals lists every portal to log in through. More than one turns on
	// dm-multipath (Linux) or MPIO (Windows), which joins the paths of a LUN
	// into one disk.
	Portals []Portal
	// LUNs are the LUN IDs the array reported after mapping. The script waits
	// until each has a block device through every portal.
	LUNs []int
	// CHAPSecretARN names a Secrets Manager secret holding
	// {"userid","password"[,"mutual_userid","mutual_password"]}. The guest reads
	// it at run time with the instance profile; the value never reaches this
	// package, a command line, or the log.
	CHAPSecretARN string
}

// NVMeVolumes describes the NVMe/TCP data volumes a guest attaches after boot.
type NVMeVolumes struct {
	// HostNQN is the workload's NVMe identity, written to /etc/nvme/hostnqn.
	HostNQN    string
	Subsystems []NVMeSubsystem
}

// NVMeSubsystem is one NVMe subsystem and the namespaces it exposes to the host.
type NVMeSubsystem struct {
	NQN string
	// Portals lists every I/O controller portal to connect to. More than one
	// needs native NVMe multipath (nvme_core.multipath=Y, the default on current
	// distributions), which shows each namespace as one block device.
	Portals []Portal
	// Namespaces are the namespace IDs (NSIDs) the host must see.
	Namespaces []int
	// DHCHAPSecretARN names a Secrets Manager secret holding
	// {"dh_chap_host_key"[,"dh_chap_ctrl_key"]} in DHHC-1 form.
	DHCHAPSecretARN string
}

// Validate reports the first problem with the iSCSI data volumes.
func (v ISCSIVolumes) Validate() error {
	if err := ValidateIQN(v.InitiatorIQN); err != nil {
		return fmt.Errorf("initiator IQN %w", err)
	}
	if v.BootTargetIQN != "" {
		if err := ValidateIQN(v.BootTargetIQN); err != nil {
			return fmt.Errorf("boot target IQN %w", err)
		}
	}
	if len(v.Targets) == 0 {
		return fmt.Errorf("no iSCSI data targets: give at least one, or leave the iSCSI data volumes out")
	}
	if len(v.Targets) > MaxTargets {
		return fmt.Errorf("%d iSCSI data targets: at most %d", len(v.Targets), MaxTargets)
	}
	seen := map[string]bool{}
	luns := 0
	for i, t := range v.Targets {
		if err := ValidateIQN(t.IQN); err != nil {
			return fmt.Errorf("data target %d IQN %w", i+1, err)
		}
		if seen[t.IQN] {
			return fmt.Errorf("data target %s is listed twice: list each target once with all its LUNs", t.IQN)
		}
		seen[t.IQN] = true
		if t.IQN == v.InitiatorIQN {
			return fmt.Errorf("data target %s is the initiator IQN: the target is the array's name", t.IQN)
		}
		if err := validatePortals(t.Portals, "data target "+t.IQN); err != nil {
			return err
		}
		for _, p := range t.Portals {
			if p.Target == "" {
				continue
			}
			if err := ValidateIQN(p.Target); err != nil {
				return fmt.Errorf("data target %s portal %s target IQN %w", t.IQN, p, err)
			}
		}
		if err := validateIDs(t.LUNs, 0, MaxSANLUN, "LUN", "data target "+t.IQN); err != nil {
			return err
		}
		luns += len(t.LUNs)
		if t.CHAPSecretARN != "" {
			if err := ValidateSecretARN(t.CHAPSecretARN); err != nil {
				return fmt.Errorf("data target %s CHAP secret %w", t.IQN, err)
			}
		}
	}
	if luns > MaxVolumesPerHost {
		return fmt.Errorf("%d data LUNs: at most %d", luns, MaxVolumesPerHost)
	}
	return nil
}

// Validate reports the first problem with the NVMe/TCP data volumes.
func (v NVMeVolumes) Validate() error {
	if err := ValidateNQN(v.HostNQN); err != nil {
		return fmt.Errorf("host NQN %w", err)
	}
	if len(v.Subsystems) == 0 {
		return fmt.Errorf("no NVMe subsystems: give at least one, or leave the NVMe data volumes out")
	}
	if len(v.Subsystems) > MaxTargets {
		return fmt.Errorf("%d NVMe subsystems: at most %d", len(v.Subsystems), MaxTargets)
	}
	seen := map[string]bool{}
	n := 0
	for i, s := range v.Subsystems {
		if err := ValidateNQN(s.NQN); err != nil {
			return fmt.Errorf("subsystem %d NQN %w", i+1, err)
		}
		if seen[s.NQN] {
			return fmt.Errorf("subsystem %s is listed twice: list each subsystem once with all its namespaces", s.NQN)
		}
		seen[s.NQN] = true
		if s.NQN == v.HostNQN {
			return fmt.Errorf("subsystem %s is the host NQN: the subsystem NQN is the array's name", s.NQN)
		}
		if err := validatePortals(s.Portals, "subsystem "+s.NQN); err != nil {
			return err
		}
		if err := validateIDs(s.Namespaces, 1, MaxNSID, "namespace ID", "subsystem "+s.NQN); err != nil {
			return err
		}
		n += len(s.Namespaces)
		if s.DHCHAPSecretARN != "" {
			if err := ValidateSecretARN(s.DHCHAPSecretARN); err != nil {
				return fmt.Errorf("subsystem %s DH-HMAC-CHAP secret %w", s.NQN, err)
			}
		}
	}
	if n > MaxVolumesPerHost {
		return fmt.Errorf("%d namespaces: at most %d", n, MaxVolumesPerHost)
	}
	return nil
}

// validatePortals checks a portal list for a guest script. Guest scripts match
// portals against sysfs, so an address must be in the form the kernel prints:
// an IPv4-mapped IPv6 address is refused in favour of its IPv4 form.
func validatePortals(ps []Portal, what string) error {
	if len(ps) == 0 {
		return fmt.Errorf("%s has no portals: give at least one IP[:port]", what)
	}
	if len(ps) > MaxPortals {
		return fmt.Errorf("%s has %d portals: at most %d", what, len(ps), MaxPortals)
	}
	seen := map[Portal]bool{}
	for _, p := range ps {
		switch {
		case !p.Addr.IsValid() || p.Port == 0:
			return fmt.Errorf("%s portal %v is incomplete: give IP:port", what, p)
		case p.Addr.Zone() != "":
			return fmt.Errorf("%s portal %v has an IPv6 zone: give a global address", what, p)
		case addrProblem(p.Addr) != "":
			return fmt.Errorf("%s portal %v %s", what, p, addrProblem(p.Addr))
		case seen[p]:
			return fmt.Errorf("%s portal %v is listed twice", what, p)
		}
		seen[p] = true
	}
	return nil
}

func validateIDs(ids []int, lo, hi int, kind, what string) error {
	if len(ids) == 0 {
		return fmt.Errorf("%s has no %ss: give the %ss the array mapped to this host", what, kind, kind)
	}
	seen := map[int]bool{}
	for _, id := range ids {
		if id < lo || id > hi {
			return fmt.Errorf("%s %s %d is out of range %d-%d", what, kind, id, lo, hi)
		}
		if seen[id] {
			return fmt.Errorf("%s %s %d is listed twice", what, kind, id)
		}
		seen[id] = true
	}
	return nil
}

// shQuote quotes s as one bash word in single quotes; a quote inside becomes
// close-quote, backslash-quote, open-quote.
// Every value is validated before it gets here; the quoting is the second wall.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// psQuote quotes s as a PowerShell verbatim string. PowerShell also treats the
// typographic single quotes as quote characters, so those are doubled too.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// ids renders a list of numbers as one space-separated word.
func ids(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

// portalWords renders the portals of an attach line: ADDR:PORT, or
// ADDR:PORT=NAME for a portal that serves its own target name (iSCSI names
// never hold '=').
func portalWords(ps []Portal) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		w := p.String()
		if p.Target != "" {
			w += "=" + p.Target
		}
		s[i] = shQuote(w)
	}
	return strings.Join(s, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// RenderLinuxISCSI renders the bash script that attaches iSCSI data volumes on
// a Linux guest. See the script's own comments for what each step does.
func RenderLinuxISCSI(v ISCSIVolumes) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writeLinuxISCSI(&b, v, "OUTPOSTS-HA-DATA-VOLUMES", "attach the workload's iSCSI data volumes")
	fmt.Fprintf(&b, "echo \"${MARK}-OK: %s\"\n", iscsiSummary(v))
	return b.Bytes(), nil
}

func iscsiSummary(v ISCSIVolumes) string {
	luns, paths := 0, 0
	for _, t := range v.Targets {
		luns += len(t.LUNs)
		if t.IQN != v.BootTargetIQN {
			paths += len(t.LUNs) * len(t.Portals)
		} else {
			paths += len(t.LUNs) // through the boot session
		}
	}
	mp := "off"
	if iscsiNeedsMultipath(v) {
		mp = "on"
	}
	return fmt.Sprintf("%s, %s, %s, dm-multipath %s",
		plural(len(v.Targets), "iSCSI target", "iSCSI targets"), plural(luns, "LUN", "LUNs"),
		plural(paths, "path", "paths"), mp)
}

func iscsiNeedsMultipath(v ISCSIVolumes) bool {
	for _, t := range v.Targets {
		if t.IQN != v.BootTargetIQN && len(t.Portals) > 1 {
			return true
		}
	}
	return false
}

// writeLinuxISCSI writes the script without its final OK line, so that
// LocalBoot can append its own ending.
func writeLinuxISCSI(b *bytes.Buffer, v ISCSIVolumes, mark, purpose string) {
	chap, odd := false, map[uint16]bool{}
	for _, t := range v.Targets {
		if t.CHAPSecretARN != "" && t.IQN != v.BootTargetIQN {
			chap = true
		}
		for _, p := range t.Portals {
			if p.Port != ISCSIPort && p.Port != 860 {
				odd[p.Port] = true
			}
		}
	}
	writePrelude(b, mark, purpose)
	b.WriteString(shCommon)
	b.WriteString(shISCSI)
	if chap {
		b.WriteString(shCHAP)
	}
	b.WriteString("\n# ---- this workload ----\n")
	fmt.Fprintf(b, "readonly INITIATOR=%s\n", shQuote(v.InitiatorIQN))
	b.WriteString("readonly CONF=\"${R}/etc/iscsi/iscsid.conf\"\n")
	b.WriteString("require_root\n")
	if chap {
		b.WriteString("need_cli aws \"the AWS CLI reads the CHAP secret: add AWS CLI v2 to the image\"\n")
		b.WriteString("need_cli python3 \"python3 parses the CHAP secret (cloud-init needs it too)\"\n")
	}
	b.WriteString("need iscsiadm iscsi-initiator-utils open-iscsi\n")
	if iscsiNeedsMultipath(v) {
		b.WriteString("multipath_on\n")
	}
	for _, port := range sortedPorts(odd) {
		fmt.Fprintf(b, "selinux_port %d\n", port)
	}
	b.WriteString("enable_units iscsid.service iscsi.service open-iscsi.service\n")
	b.WriteString("systemctl start iscsid.service\n")
	b.WriteString("set_initiator\n")
	for _, t := range v.Targets {
		if t.IQN == v.BootTargetIQN {
			fmt.Fprintf(b, "rescan %s '%s'\n", shQuote(t.IQN), ids(t.LUNs))
			continue
		}
		fmt.Fprintf(b, "attach %s %s '%s' %s\n", shQuote(t.IQN), shQuote(t.CHAPSecretARN), ids(t.LUNs), portalWords(t.Portals))
	}
}

func sortedPorts(m map[uint16]bool) []int {
	out := make([]int, 0, len(m))
	for p := range m {
		out = append(out, int(p))
	}
	sort.Ints(out)
	return out
}

// RenderLinuxNVMe renders the bash script that attaches NVMe/TCP data volumes
// on a Linux guest.
func RenderLinuxNVMe(v NVMeVolumes) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writeLinuxNVMe(&b, v, "OUTPOSTS-HA-DATA-VOLUMES", "attach the workload's NVMe/TCP data volumes")
	fmt.Fprintf(&b, "echo \"${MARK}-OK: %s\"\n", nvmeSummary(v))
	return b.Bytes(), nil
}

func nvmeSummary(v NVMeVolumes) string {
	ns, paths, mp := 0, 0, false
	for _, s := range v.Subsystems {
		ns += len(s.Namespaces)
		paths += len(s.Portals)
		mp = mp || len(s.Portals) > 1
	}
	m := "single path"
	if mp {
		m = "native multipath"
	}
	return fmt.Sprintf("%s, %s, %s, %s",
		plural(len(v.Subsystems), "NVMe subsystem", "NVMe subsystems"), plural(ns, "namespace", "namespaces"),
		plural(paths, "controller", "controllers"), m)
}

func writeLinuxNVMe(b *bytes.Buffer, v NVMeVolumes, mark, purpose string) {
	auth, mp := false, false
	for _, s := range v.Subsystems {
		auth = auth || s.DHCHAPSecretARN != ""
		mp = mp || len(s.Portals) > 1
	}
	writePrelude(b, mark, purpose)
	b.WriteString(shCommon)
	b.WriteString(shNVMe)
	if auth {
		b.WriteString(shDHCHAP)
	}
	b.WriteString("\n# ---- this workload ----\n")
	fmt.Fprintf(b, "readonly HOSTNQN=%s\n", shQuote(v.HostNQN))
	fmt.Fprintf(b, "readonly HOSTID=%s\n", shQuote(hostID(v.HostNQN)))
	b.WriteString("require_root\n")
	if auth {
		b.WriteString("need_cli aws \"the AWS CLI reads the DH-HMAC-CHAP secret: add AWS CLI v2 to the image\"\n")
		b.WriteString("need_cli python3 \"python3 parses the DH-HMAC-CHAP secret (cloud-init needs it too)\"\n")
	}
	b.WriteString("need nvme nvme-cli nvme-cli\n")
	b.WriteString("host_identity\n")
	if mp {
		b.WriteString("require_native_multipath\n")
	}
	for _, s := range v.Subsystems {
		fmt.Fprintf(b, "connect %s %s '%s' %s\n", shQuote(s.NQN), shQuote(s.DHCHAPSecretARN), ids(s.Namespaces), portalWords(s.Portals))
	}
}

func writePrelude(b *bytes.Buffer, mark, purpose string) {
	fmt.Fprintf(b, "#!/bin/bash\n# outposts-ha: %s.\n", purpose)
	b.WriteString(shPrelude)
	fmt.Fprintf(b, "readonly MARK=%s\n", mark)
	b.WriteString(shTraps)
}

// The script text is split so that each protocol carries only what it uses:
// user data is limited to 16 KiB.
const shPrelude = `# Generated by outposts-ha: change the answers and render again rather than editing.
# Safe to run at every boot: each step looks first and changes only what is missing.
# It stops at the first error (no step hides a failure) and ends with one OK line.
set -Eeuo pipefail
shopt -s nullglob
umask 077
# Tests relocate every path under a scratch root; empty in production.
R=${OUTPOSTS_HA_ROOT:-}
readonly R
`

const shTraps = `trap 'echo "${MARK}-FAILED: line ${LINENO}: ${BASH_COMMAND}" >&2' ERR
say() { echo "outposts-ha: $*"; }
die() {
	echo "${MARK}-FAILED: $*" >&2
	exit 1
}
`

const shCommon = `require_root() {
	if [[ -z $R && $EUID -ne 0 ]]; then die "run as root"; fi
}
# need_cli CMD WHY: stop before any change when a tool that is not ours to install is missing.
need_cli() {
	if ! command -v "$1" >/dev/null; then die "$1 is missing: $2"; fi
}
# need CMD RPM DEB: install one package when CMD is missing. Never a full update.
need() {
	if command -v "$1" >/dev/null; then return 0; fi
	say "installing $2 (for $1)"
	if command -v dnf >/dev/null; then
		dnf install -y "$2"
	elif command -v yum >/dev/null; then
		yum install -y "$2"
	elif command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$3"
	else
		die "no dnf, yum or apt-get to install $2: add it to the image"
	fi
	need_cli "$1" "installing $2 did not provide it"
}
enable_units() {
	local u
	for u in "$@"; do
		if systemctl cat "$u" >/dev/null 2>&1; then systemctl enable "$u"; fi
	done
}
# portal_split "ip:port" or "[ip6]:port": sets ADDR and PORT.
portal_split() {
	PORT=${1##*:}
	ADDR=${1%:*}
	ADDR=${ADDR#[}
	ADDR=${ADDR%]}
}
# secret ARN: print a Secrets Manager secret string into the pipe that follows.
# The ARN is on the command line; the secret never is, nor in a shell variable
# or the log: the parser at the other end of the pipe puts it where it belongs.
secret() {
	local region=${1#arn:*:secretsmanager:}
	aws secretsmanager get-secret-value --region "${region%%:*}" --secret-id "$1" \
		--query SecretString --output text
}
`

const shISCSI = `# set_initiator: the workload has one iSCSI identity, the one it SAN-boots with.
# Write it only when the guest has another name; never invent a new one.
set_initiator() {
	local f=${R}/etc/iscsi/initiatorname.iscsi cur='' line
	if [[ -r $f ]]; then
		while IFS= read -r line || [[ -n $line ]]; do
			if [[ $line == InitiatorName=* ]]; then cur=${line#InitiatorName=}; fi
		done <"$f"
	fi
	if [[ $cur == "$INITIATOR" ]]; then return 0; fi
	say "initiator name ${cur:-(none)} -> $INITIATOR"
	printf 'InitiatorName=%s\n' "$INITIATOR" >"$f.new"
	chmod 0644 "$f.new"
	mv -f "$f.new" "$f"
	systemctl restart iscsid.service
}
# sessions TARGET [ADDR PORT]: print the sysfs numbers of the sessions to TARGET.
sessions() {
	local s n c
	for s in "$R"/sys/class/iscsi_session/session*; do
		if [[ ! -r $s/targetname || $(<"$s/targetname") != "$1" ]]; then continue; fi
		n=${s##*session}
		if (($# == 1)); then
			echo "$n"
			continue
		fi
		for c in "$R"/sys/class/iscsi_connection/connection"$n":*; do
			if [[ $(<"$c/persistent_address") == "$2" && $(<"$c/persistent_port") == "$3" ]]; then echo "$n"; fi
		done
	done
}
# wait_luns "TARGET..." PATHS "LUN...": wait, bounded, until every LUN has PATHS
# block devices over the sessions to any of the named targets.
# Linux numbers a LUN above 255 as the array reports it, with the SAM flat-space
# bits: LUN 257 is H:C:T:16641 (0x4101) in sysfs.
wait_luns() {
	local i s lun sl n missing
	local -a devs
	for ((i = 0; i < 60; i++)); do
		missing=''
		for lun in $3; do
			n=0
			sl=$lun
			if ((lun > 255)); then sl=$((lun | 16384)); fi
			for s in "$R"/sys/class/iscsi_session/session*; do
				if [[ ! -r $s/targetname || " $1 " != *" $(<"$s/targetname") "* ]]; then continue; fi
				devs=("$s"/device/target*/*:*:*:"$sl"/block/*)
				n=$((n + ${#devs[@]}))
			done
			if ((n < $2)); then missing+=" LUN $lun ($n of $2 paths)"; fi
		done
		if [[ -z $missing ]]; then return 0; fi
		sleep 2
	done
	die "target $1 after 120 s:$missing; check the LUN map and the host's initiator on the array"
}
# attach TARGET SECRET_ARN "LUN..." PORTAL...: log in through every portal, with
# static node records (no discovery: no stray targets or paths). A portal written
# ADDR:PORT=NAME serves its own target NAME (arrays that give each node or port
# its own IQN); the others serve TARGET.
attach() {
	local target=$1 arn=$2 luns=$3 p t names=$1
	shift 3
	local -a todo=()
	for p in "$@"; do
		t=$target
		if [[ $p == *=* ]]; then t=${p#*=}; fi
		if [[ " $names " != *" $t "* ]]; then names+=" $t"; fi
		portal_split "${p%%=*}"
		if [[ -n $(sessions "$t" "$ADDR" "$PORT") ]]; then
			say "$t via ${p%%=*}: already logged in"
		else
			todo+=("$p")
		fi
	done
	if ((${#todo[@]} > 0)); then
		if [[ -n $arn ]]; then chap_defaults "$arn"; fi
		for p in "${todo[@]}"; do
			t=$target
			if [[ $p == *=* ]]; then t=${p#*=}; fi
			p=${p%%=*}
			if iscsiadm -m node -T "$t" -p "$p" >/dev/null 2>&1; then
				iscsiadm -m node -T "$t" -p "$p" -o delete
			fi
			iscsiadm -m node -T "$t" -p "$p" -o new >/dev/null
			if [[ -z $arn ]]; then
				iscsiadm -m node -T "$t" -p "$p" -o update -n node.session.auth.authmethod -v None
			fi
			iscsiadm -m node -T "$t" -p "$p" -o update -n node.startup -v automatic
		done
		restore_conf
		for p in "${todo[@]}"; do
			t=$target
			if [[ $p == *=* ]]; then t=${p#*=}; fi
			say "logging in to $t via ${p%%=*}"
			iscsiadm -m node -T "$t" -p "${p%%=*}" --login >/dev/null
		done
	fi
	wait_luns "$names" "$#" "$luns"
}
# rescan TARGET "LUN...": the SAN boot session to TARGET carries these LUNs too.
# Rescan it and open no second session: that would give the running root LUN a
# path nothing manages.
rescan() {
	local n
	local -a ss
	mapfile -t ss < <(sessions "$1")
	if ((${#ss[@]} == 0)); then die "no session to boot target $1: did this instance SAN-boot from it?"; fi
	for n in "${ss[@]}"; do iscsiadm -m session -r "$n" --rescan >/dev/null; done
	wait_luns "$1" "${#ss[@]}" "$2"
}
restore_conf() {
	if [[ -f $CONF.outposts-ha ]]; then mv -f "$CONF.outposts-ha" "$CONF"; fi
}
trap restore_conf EXIT
# multipath_on: several portals give each LUN several block devices;
# dm-multipath joins them into one. find_multipaths keeps single-path disks out.
multipath_on() {
	need multipath device-mapper-multipath multipath-tools
	if [[ ! -e ${R}/etc/multipath.conf ]]; then
		if command -v mpathconf >/dev/null; then
			mpathconf --enable --with_multipathd n
		else
			printf 'defaults {\n\tuser_friendly_names yes\n\tfind_multipaths yes\n}\n' >"${R}/etc/multipath.conf"
		fi
	fi
	systemctl enable --now multipathd.service
}
# selinux_port PORT: iscsid may only connect to ports labelled iscsi_port_t.
selinux_port() {
	if ! command -v semanage >/dev/null || ! selinuxenabled 2>/dev/null; then return 0; fi
	semanage port -a -t iscsi_port_t -p tcp "$1" 2>/dev/null || semanage port -m -t iscsi_port_t -p tcp "$1"
}
`

// shCHAP turns a CHAP secret into the defaults of the node records created
// next. iscsiadm copies iscsid.conf into every record it creates (-o new), so
// the credentials reach the records without ever being on a command line
// (iscsiadm -v would put them there). The original iscsid.conf comes back right
// after, and on any exit. open-iscsi keeps the records root-only (0600).
const shCHAP = `# chap_defaults SECRET_ARN: put the CHAP credentials into iscsid.conf (0600) as
# the defaults "iscsiadm -o new" copies into node records; restore_conf undoes it.
chap_defaults() {
	if [[ ! -f $CONF ]]; then die "$CONF is missing"; fi
	cp -p "$CONF" "$CONF.outposts-ha"
	secret "$1" | python3 -c "$CHAP_PY" "$CONF"
}
readonly CHAP_PY='
import json, os, re, sys
conf = sys.argv[1]
try:
    s = json.load(sys.stdin)
except ValueError:
    sys.exit("the CHAP secret is not JSON")
ok = re.compile(r"[\x21-\x7e]{1,255}")
def get(k, need):
    v = s.get(k) if isinstance(s, dict) else None
    if v in (None, "") and not need:
        return None
    if not isinstance(v, str) or not ok.fullmatch(v):
        sys.exit("CHAP secret field %s: missing, or not 1-255 printable characters without spaces" % k)
    return v
u, p = get("userid", True), get("password", True)
mu, mp = get("mutual_userid", False), get("mutual_password", False)
if (mu is None) != (mp is None):
    sys.exit("CHAP secret: give both mutual_userid and mutual_password, or neither")
with open(conf) as f:
    lines = [l for l in f if not l.lstrip().startswith("node.session.auth.")]
if lines and not lines[-1].endswith("\n"):
    lines[-1] += "\n"
a = [("authmethod", "CHAP"), ("username", u), ("password", p)]
if mu:
    a += [("username_in", mu), ("password_in", mp)]
lines += ["node.session.auth.%s = %s\n" % kv for kv in a]
fd = os.open(conf + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.writelines(lines)
os.rename(conf + ".new", conf)
'
`

const shNVMe = `# set_file PATH VALUE: write one line, only when it differs.
set_file() {
	if [[ -r $1 && $(<"$1") == "$2" ]]; then return 0; fi
	say "$1 -> $2"
	mkdir -p "${1%/*}"
	printf '%s\n' "$2" >"$1.new"
	chmod 0644 "$1.new"
	mv -f "$1.new" "$1"
}
# host_identity: the workload's one NVMe identity, and the TCP transport now and at boot.
host_identity() {
	set_file "${R}/etc/nvme/hostnqn" "$HOSTNQN"
	set_file "${R}/etc/nvme/hostid" "$HOSTID"
	modprobe nvme_tcp
	set_file "${R}/etc/modules-load.d/outposts-ha-nvme-tcp.conf" nvme_tcp
}
# require_native_multipath: with nvme_core.multipath=N every portal would give
# each namespace its own block device: two names for one volume.
require_native_multipath() {
	local f=${R}/sys/module/nvme_core/parameters/multipath
	if [[ ! -r $f || $(<"$f") != Y ]]; then
		die "native NVMe multipath is off: boot with nvme_core.multipath=Y, or give one portal"
	fi
}
# connected NQN ADDR PORT: a controller to NQN through ADDR:PORT exists.
connected() {
	local c a
	for c in "$R"/sys/class/nvme/nvme*; do
		if [[ ! -r $c/subsysnqn || $(<"$c/subsysnqn") != "$1" || ! -r $c/address ]]; then continue; fi
		a=$(<"$c/address")
		if [[ $a == "traddr=$2,trsvcid=$3" || $a == "traddr=$2,trsvcid=$3,"* ]]; then return 0; fi
	done
	return 1
}
# wait_ns NQN PATHS "NSID...": wait, bounded, for PATHS live controllers and a block device per namespace.
wait_ns() {
	local i c b n live missing
	for ((i = 0; i < 60; i++)); do
		live=0
		for c in "$R"/sys/class/nvme/nvme*; do
			if [[ -r $c/subsysnqn && $(<"$c/subsysnqn") == "$1" && $(<"$c/state") == live ]]; then live=$((live + 1)); fi
		done
		missing=''
		for n in $3; do
			missing+=" $n"
			for b in "$R"/sys/block/nvme*n*; do
				if [[ ${b##*/} =~ ^nvme[0-9]+n[0-9]+$ && $(<"$b/nsid") == "$n" && $(<"$b/device/subsysnqn") == "$1" ]]; then
					missing=${missing% "$n"}
					break
				fi
			done
		done
		if ((live >= $2)) && [[ -z $missing ]]; then return 0; fi
		sleep 2
	done
	die "subsystem $1 after 120 s: $live of $2 controllers live, namespaces missing:${missing:- none}; check the host NQN and namespace map on the array"
}
# connect NQN SECRET_ARN "NSID..." PORTAL...: connect to NQN through every portal.
connect() {
	local nqn=$1 arn=$2 nsids=$3 p i
	shift 3
	local -a todo=()
	for p in "$@"; do
		portal_split "$p"
		if connected "$nqn" "$ADDR" "$PORT"; then
			say "$nqn via $p: already connected"
		else
			todo+=("$ADDR" "$PORT")
		fi
	done
	if ((${#todo[@]} > 0)); then
		if [[ -n $arn ]]; then
			dhchap_connect "$arn" "$nqn" "${todo[@]}"
		else
			for ((i = 0; i < ${#todo[@]}; i += 2)); do
				say "connecting to $nqn via ${todo[i]} port ${todo[i + 1]}"
				nvme connect -t tcp -a "${todo[i]}" -s "${todo[i + 1]}" -n "$nqn" -q "$HOSTNQN" -I "$HOSTID" >/dev/null
			done
		fi
	fi
	wait_ns "$nqn" "$#" "$nsids"
}
`

// shDHCHAP connects with DH-HMAC-CHAP without putting a key on any command
// line: nvme connect --dhchap-secret would, and nvme-cli versions differ on
// whether /etc/nvme/config.json carries the controller key. Every nvme-cli
// version connects by writing one option string to /dev/nvme-fabrics; a small
// parser does the same with the keys it reads from the pipe (kernel 6.0+ with
// CONFIG_NVME_HOST_AUTH, which current distribution kernels have).
const shDHCHAP = `# dhchap_connect SECRET_ARN NQN ADDR PORT...: connect with the keys from the secret,
# written straight to /dev/nvme-fabrics (the kernel interface nvme-cli itself uses).
dhchap_connect() {
	local arn=$1
	shift
	say "connecting to $1 with DH-HMAC-CHAP"
	secret "$arn" | python3 -c "$FABRICS_PY" "${R}/dev/nvme-fabrics" "$1" "$HOSTNQN" "$HOSTID" "${@:2}"
}
readonly FABRICS_PY='
import errno, json, os, re, sys
dev, nqn, host, hostid = sys.argv[1:5]
ports = sys.argv[5:]
try:
    s = json.load(sys.stdin)
except ValueError:
    sys.exit("the DH-HMAC-CHAP secret is not JSON")
key = re.compile(r"DHHC-1:0[0-3]:[A-Za-z0-9+/]{20,}={0,2}:")
def get(k, need):
    v = s.get(k) if isinstance(s, dict) else None
    if v in (None, "") and not need:
        return None
    if not isinstance(v, str) or not key.fullmatch(v):
        sys.exit("DH-HMAC-CHAP secret field %s: missing, or not a DHHC-1:NN:<base64>: key" % k)
    return v
hk, ck = get("dh_chap_host_key", True), get("dh_chap_ctrl_key", False)
for i in range(0, len(ports), 2):
    a, p = ports[i], ports[i + 1]
    o = "nqn=%s,transport=tcp,traddr=%s,trsvcid=%s,hostnqn=%s,hostid=%s,dhchap_secret=%s" % (nqn, a, p, host, hostid, hk)
    if ck:
        o += ",dhchap_ctrl_secret=%s" % ck
    fd = os.open(dev, os.O_RDWR)
    try:
        os.write(fd, o.encode())
        r = os.read(fd, 256).decode("ascii", "replace").strip()
    except OSError as e:
        hint = " (a kernel without NVMe in-band authentication?)" if e.errno == errno.EINVAL else ""
        sys.exit("connect %s via %s port %s: %s%s" % (nqn, a, p, e.strerror, hint))
    finally:
        os.close(fd)
    if not r.startswith("instance="):
        sys.exit("connect %s via %s port %s: unexpected reply from %s" % (nqn, a, p, dev))
    print("outposts-ha: connected %s via %s port %s (%s)" % (nqn, a, p, r))
'
`

// hostID is the NVMe host ID that goes with a host NQN. The kernel refuses one
// host ID with two host NQNs, so it must be as stable as the NQN: the UUID
// inside a UUID-form NQN, otherwise a name-based UUID derived from the NQN, so
// that the primary and the recovery instance present the same pair.
func hostID(nqn string) string {
	const prefix = "nqn.2014-08.org.nvmexpress:uuid:"
	if id, ok := strings.CutPrefix(nqn, prefix); ok {
		return id
	}
	return uuid.NewSHA1(hostIDSpace, []byte(nqn)).String()
}

// hostIDSpace is the name space of derived NVMe host IDs (a fixed, random UUID).
var hostIDSpace = uuid.MustParse("5b0d7f6e-2c1a-4f57-9a8e-3d6c0b1e4a92")

// RenderWindowsISCSI renders the PowerShell script that attaches iSCSI data
// volumes on a Windows guest. It is never part of the user data: EC2 hands a
// SAN-booted Windows guest the iPXE script, and EC2Launch does not read
// multipart user data, so a PowerShell part there would silently never run.
// The operator runs it once on the instance (or bakes it into the image as a
// startup task); the targets it adds are persistent, so they come back at every
// boot and after a failover, which boots the same SAN volume.
func RenderWindowsISCSI(v ISCSIVolumes) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	multi := false
	for _, t := range v.Targets {
		multi = multi || (t.IQN != v.BootTargetIQN && len(t.Portals) > 1)
	}
	var b bytes.Buffer
	b.WriteString(psHead)
	fmt.Fprintf(&b, "$InitiatorIqn = %s\n", psQuote(v.InitiatorIQN))
	fmt.Fprintf(&b, "$Multipath = $%t\n", multi)
	b.WriteString("$Targets = @(\n")
	for _, t := range v.Targets {
		ps := make([]string, len(t.Portals))
		for i, p := range t.Portals {
			iqn := t.IQN
			if p.Target != "" {
				iqn = p.Target
			}
			ps[i] = fmt.Sprintf("@{ Address = %s; Port = %d; Iqn = %s }", psQuote(p.Addr.String()), p.Port, psQuote(iqn))
		}
		ls := make([]string, len(t.LUNs))
		for i, l := range t.LUNs {
			ls[i] = strconv.Itoa(l)
		}
		boot := t.IQN == v.BootTargetIQN
		fmt.Fprintf(&b, "\t@{ Iqn = %s; SecretArn = %s; Boot = $%t; Luns = @(%s); Portals = @(%s) }\n",
			psQuote(t.IQN), psQuote(t.CHAPSecretARN), boot, strings.Join(ls, ", "), strings.Join(ps, ", "))
	}
	b.WriteString(")\n")
	b.WriteString(psBody)
	fmt.Fprintf(&b, "Write-Output \"$Mark-OK: %s\"\n", iscsiSummaryWindows(v, multi))
	return b.Bytes(), nil
}

func iscsiSummaryWindows(v ISCSIVolumes, multi bool) string {
	luns := 0
	for _, t := range v.Targets {
		luns += len(t.LUNs)
	}
	mp := "off"
	if multi {
		mp = "on"
	}
	return fmt.Sprintf("%s, %s online, MPIO %s",
		plural(len(v.Targets), "iSCSI target", "iSCSI targets"), plural(luns, "disk", "disks"), mp)
}

const psHead = `# outposts-ha: attach the workload's iSCSI data volumes on Windows.
# Generated by outposts-ha: change the answers and render again rather than editing.
# Not part of the user data: a SAN-booted Windows guest gets only the iPXE script, and
# EC2Launch does not run parts of multipart user data. Run it once on the instance as an
# administrator (or as a startup task in the image). The targets it adds are persistent:
# they come back at every boot, and after a failover, which boots the same SAN volume.
# Safe to run again: each step looks first. It stops at the first error.
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Mark = 'OUTPOSTS-HA-DATA-VOLUMES'
trap {
	Write-Output "$Mark-FAILED: $_"
	exit 1
}
function Say([string]$Message) { Write-Output "outposts-ha: $Message" }
`

const psBody = `# Check before changing anything: the CHAP secrets need AWS Tools for PowerShell.
if (@($Targets | Where-Object { $_.SecretArn -and -not $_.Boot }).Count -gt 0 -and -not (Get-Command -Name Get-SECSecretValue -ErrorAction SilentlyContinue)) {
	throw 'Get-SECSecretValue is missing: add AWS Tools for PowerShell (AWS.Tools.SecretsManager) to the image'
}
Set-Service -Name MSiSCSI -StartupType Automatic
Start-Service -Name MSiSCSI
# The workload has one iSCSI identity, the one it SAN-boots with: set it only when it differs.
$port = @(Get-InitiatorPort | Where-Object { $_.ConnectionType -eq 'iSCSI' })
if ($port.Count -ne 1) { throw "expected one iSCSI initiator port, found $($port.Count)" }
if ($port[0].NodeAddress -ne $InitiatorIqn) {
	Say "initiator name $($port[0].NodeAddress) -> $InitiatorIqn"
	Set-InitiatorPort -NodeAddress $port[0].NodeAddress -NewNodeAddress $InitiatorIqn | Out-Null
}
# Several portals give each LUN several disks: MPIO, with the Microsoft DSM claiming
# iSCSI disks, joins them into one. Both changes need a restart, so the script stops there.
if ($Multipath) {
	if (-not (Get-WindowsFeature -Name Multipath-IO).Installed) {
		Install-WindowsFeature -Name Multipath-IO | Out-Null
		throw 'installed the Multipath-IO feature: restart the instance and run this script again'
	}
	if (-not (Get-MSDSMAutomaticClaimSettings)['iSCSI']) {
		Enable-MSDSMAutomaticClaim -BusType iSCSI
		throw 'MPIO now claims iSCSI disks: restart the instance and run this script again'
	}
}
foreach ($t in $Targets) {
	if ($t.Boot) {
		# The SAN boot session carries these LUNs: a second session would give the
		# running boot disk a second path. Rescan instead.
		Update-HostStorageCache
	} else {
		$auth = @{}
		if ($t.SecretArn) {
			# Get-SECSecretValue runs inside this process: the secret is never on a command line.
			$region = $t.SecretArn.Split(':')[3]
			$s = (Get-SECSecretValue -SecretId $t.SecretArn -Region $region).SecretString | ConvertFrom-Json
			foreach ($k in 'userid', 'password') {
				if (-not ($s.PSObject.Properties.Name -contains $k) -or -not $s.$k) { throw "CHAP secret for $($t.Iqn) has no $k" }
			}
			$auth = @{ AuthenticationType = 'ONEWAYCHAP'; ChapUsername = $s.userid; ChapSecret = $s.password }
			if (($s.PSObject.Properties.Name -contains 'mutual_password') -and $s.mutual_password) {
				# Windows keeps one initiator-wide mutual CHAP secret; mutual_userid is not used.
				Set-IscsiChapSecret -ChapSecret $s.mutual_password
				$auth.AuthenticationType = 'MUTUALCHAP'
			}
		}
		foreach ($p in $t.Portals) {
			$known = @(Get-IscsiTargetPortal | Where-Object { $_.TargetPortalAddress -eq $p.Address -and $_.TargetPortalPortNumber -eq $p.Port })
			if ($known.Count -eq 0) {
				New-IscsiTargetPortal -TargetPortalAddress $p.Address -TargetPortalPortNumber $p.Port | Out-Null
			}
			$sessions = @(Get-IscsiSession | Where-Object { $_.TargetNodeAddress -eq $p.Iqn -and $_.IsConnected })
			$via = @($sessions | Get-IscsiConnection | Where-Object { $_.TargetAddress -eq $p.Address -and $_.TargetPortNumber -eq $p.Port })
			if ($via.Count -gt 0) {
				Say "$($p.Iqn) via $($p.Address):$($p.Port): already connected"
				continue
			}
			Say "connecting to $($p.Iqn) via $($p.Address):$($p.Port)"
			Connect-IscsiTarget -NodeAddress $p.Iqn -TargetPortalAddress $p.Address -TargetPortalPortNumber $p.Port -IsPersistent $true -IsMultipathEnabled $Multipath @auth | Out-Null
		}
	}
	# Wait, bounded, for one disk per LUN, then bring them online (the SAN policy keeps new SAN disks offline).
	$disks = @()
	for ($i = 0; $i -lt 60; $i++) {
		# Every portal's target name: arrays that give each node or port its own IQN
		# reach one volume as several targets.
		$names = @($t.Portals | ForEach-Object { $_.Iqn }) + @($t.Iqn)
		$disks = @(Get-IscsiSession | Where-Object { $names -contains $_.TargetNodeAddress } | Get-Disk | Where-Object { -not $_.IsBoot } | Sort-Object -Property Number -Unique)
		if ($disks.Count -ge $t.Luns.Count) { break }
		Start-Sleep -Seconds 2
	}
	if ($disks.Count -lt $t.Luns.Count) {
		throw "target $($t.Iqn): $($disks.Count) of $($t.Luns.Count) disks after 120 s; check the LUN map and the host's initiator on the array"
	}
	foreach ($d in $disks) {
		if ($d.IsOffline) { Set-Disk -Number $d.Number -IsOffline $false }
		if ($d.IsReadOnly) { Set-Disk -Number $d.Number -IsReadOnly $false }
	}
}
`
