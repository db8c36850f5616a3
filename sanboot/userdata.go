package sanboot

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxUserDataBytes is the EC2 limit on user data, counted before base64.
const MaxUserDataBytes = 16384

// Content types of the parts this package puts in user data. The part handler
// (the first part) routes the outposts-ha types; cloud-init handles the rest.
const (
	TypePartHandler = "text/part-handler"
	TypeIPXE        = "text/ipxe"
	TypeCloudConfig = "text/cloud-config"
	TypeShellScript = "text/x-shellscript"
	// TypeLocalBoot runs at every boot, on the LocalBoot helper only.
	TypeLocalBoot = "text/x-outposts-ha-localboot"
	// TypePerBoot runs at every boot, in the workload's OS only.
	TypePerBoot = "text/x-outposts-ha-per-boot"
	// TypePerInstance runs once per instance, in the workload's OS only.
	TypePerInstance = "text/x-outposts-ha-per-instance"
)

// Part is one part of a multipart user data document.
type Part struct {
	ContentType string // for example text/x-shellscript
	Filename    string // the name cloud-init gives the part
	Content     []byte
}

// contentTypeRE and filenameRE match what `^[a-z]+/[a-z0-9][a-z0-9.+-]{0,126}$`
// and `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$` would, as a length check plus the
// pattern with `*` for the count: a counted repetition compiles to a program
// that grows with the count (100 KB and 60 KB here). The patterns match only
// ASCII, so bytes count as characters; the type part holds no '/', so the
// subtype is what follows the first '/'. TestBoundedPatternsMatchCounted
// checks both against the original patterns.
var (
	contentTypeRE = sync.OnceValue(func() matchFunc {
		re := regexp.MustCompile(`^[a-z]+/[a-z0-9][a-z0-9.+-]*$`)
		return func(s string) bool { return re.MatchString(s) && len(s)-strings.IndexByte(s, '/')-1 <= 127 }
	})
	filenameRE = sync.OnceValue(func() matchFunc {
		re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
		return func(s string) bool { return len(s) <= 64 && re.MatchString(s) }
	})
)

// matchFunc lets a check stand where a *regexp.Regexp was used.
type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

// Multipart renders parts as a MIME multipart/mixed document, the form
// cloud-init (and the AWS iPXE build) read. The boundary is derived from the
// content, so the same parts always give the same bytes, and it is checked
// against every part so that no part can end the document early or add one.
func Multipart(parts []Part) ([]byte, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("multipart user data needs at least one part")
	}
	for i, p := range parts {
		if !contentTypeRE().MatchString(p.ContentType) {
			return nil, fmt.Errorf("part %d content type %q is not type/subtype in lowercase", i+1, p.ContentType)
		}
		if !filenameRE().MatchString(p.Filename) {
			return nil, fmt.Errorf("part %d file name %q: use 1-64 letters, digits, '.', '_' or '-'", i+1, p.Filename)
		}
		if err := checkText(p.Content); err != nil {
			return nil, fmt.Errorf("part %d (%s) %w", i+1, p.Filename, err)
		}
	}
	boundary, err := chooseBoundary(parts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\nMIME-Version: 1.0\n\n", boundary)
	for _, p := range parts {
		charset, cte := "us-ascii", "7bit"
		if !isASCII(p.Content) {
			charset, cte = "utf-8", "8bit"
		}
		fmt.Fprintf(&b, "--%s\nContent-Type: %s; charset=%q\nMIME-Version: 1.0\n", boundary, p.ContentType, charset)
		fmt.Fprintf(&b, "Content-Transfer-Encoding: %s\nContent-Disposition: attachment; filename=%q\n\n", cte, p.Filename)
		// The line break before the next boundary belongs to the boundary, so
		// each part keeps its own last line break.
		b.Write(p.Content)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "--%s--\n", boundary)
	return b.Bytes(), nil
}

// checkText accepts UTF-8 text with no NUL and no bare CR (user data is LF text).
func checkText(c []byte) error {
	switch {
	case len(c) == 0:
		return fmt.Errorf("is empty")
	case !utf8.Valid(c):
		return fmt.Errorf("is not UTF-8 text")
	case bytes.IndexByte(c, 0) >= 0:
		return fmt.Errorf("contains a NUL byte")
	case bytes.IndexByte(c, '\r') >= 0:
		return fmt.Errorf("contains a carriage return: use LF line ends")
	}
	return nil
}

func isASCII(c []byte) bool {
	for _, x := range c {
		if x&0x80 != 0 {
			return false
		}
	}
	return true
}

// chooseBoundary derives the boundary from a hash of the parts. A part that
// contains the derived boundary (it would have to contain a hash of itself)
// gets the next derivation; the number of tries is bounded.
func chooseBoundary(parts []Part) (string, error) {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", p.ContentType, p.Filename, len(p.Content))
		h.Write(p.Content)
	}
	return pickBoundary(h.Sum(nil), parts)
}

func pickBoundary(sum []byte, parts []Part) (string, error) {
	for try := 0; try < 16; try++ {
		boundary := "==outposts-ha-" + hex.EncodeToString(sum[:12]) + "=="
		clash := false
		for _, p := range parts {
			if bytes.Contains(p.Content, []byte("--"+boundary)) {
				clash = true
				break
			}
		}
		if !clash {
			return boundary, nil
		}
		next := sha256.Sum256(append(sum, byte(try)))
		sum = next[:]
	}
	return "", fmt.Errorf("no MIME boundary clear of the part contents after 16 tries")
}

// ParseMultipart reads a document that Multipart wrote (or any multipart/mixed
// user data) back into its parts. Tests and the SAN boot lab use it to take the
// scripts out of rendered user data.
func ParseMultipart(doc []byte) ([]Part, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("read MIME header: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("parse content type: %w", err)
	}
	if mt != "multipart/mixed" || params["boundary"] == "" {
		return nil, fmt.Errorf("content type %q is not multipart/mixed with a boundary", mt)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var parts []Part
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read part %d: %w", len(parts)+1, err)
		}
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return nil, fmt.Errorf("part %d content type: %w", len(parts)+1, err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("read part %d: %w", len(parts)+1, err)
		}
		parts = append(parts, Part{ContentType: ct, Filename: p.FileName(), Content: body})
	}
}

// GuestOS is the operating system the workload runs.
type GuestOS string

// Guest operating systems.
const (
	Linux   GuestOS = "linux"
	Windows GuestOS = "windows"
)

// UserDataSpec is everything that goes into one launch template's user data.
// Exactly one of IPXE (iSCSI SAN boot) and LocalBoot is set.
type UserDataSpec struct {
	Guest     GuestOS
	IPXE      *IPXE
	LocalBoot *LocalBoot
	// Data volumes the guest attaches after boot (either, both or neither).
	ISCSIData *ISCSIVolumes
	NVMeData  *NVMeVolumes
	// Extra holds the operator's own parts for a Linux guest: text/cloud-config
	// (SAN boot only: under LocalBoot it would apply to the helper as well) and
	// text/x-shellscript (run once per instance, in the workload's OS only).
	Extra []Part
}

// UserDataResult is what UserData renders.
type UserDataResult struct {
	// UserData is the raw user data, at most MaxUserDataBytes; callers base64 it.
	UserData []byte
	// Parts are the parts inside UserData (nil when it is a bare iPXE script),
	// for writing out beside it for review.
	Parts []Part
	// WindowsDataVolumes is the PowerShell script for a Windows guest's iSCSI
	// data volumes. It is not in the user data, where it would never run (see
	// RenderWindowsISCSI): the operator runs it on the instance or puts it in the image.
	WindowsDataVolumes []byte
	// Notes are facts the operator must read before launching.
	Notes []string
}

// UserData assembles the user data for one boot mode and guest:
//
//   - iSCSI SAN boot, Linux guest: multipart. The part handler, the iPXE script
//     (text/ipxe: the iPXE loader reads it, the handler hides it from
//     cloud-init), the data-volume scripts (every boot: NVMe/TCP connections do
//     not survive a reboot on their own) and the operator's parts.
//   - iSCSI SAN boot, Windows guest: the bare iPXE script. Windows ignores
//     multipart user data, so the data-volume PowerShell is returned apart.
//   - LocalBoot, any guest: multipart. The part handler, the LocalBoot script
//     (run on the helper only), then for a Linux guest the data-volume scripts
//     and the operator's parts (run in the workload's OS only).
func UserData(s UserDataSpec) (UserDataResult, error) {
	var res UserDataResult // on error, UserData returns the zero result
	if s.Guest != Linux && s.Guest != Windows {
		return UserDataResult{}, fmt.Errorf("guest OS %q: use %q or %q", s.Guest, Linux, Windows)
	}
	if (s.IPXE == nil) == (s.LocalBoot == nil) {
		return UserDataResult{}, fmt.Errorf("give exactly one boot: iPXE (iSCSI SAN boot) or LocalBoot")
	}
	if err := s.checkIdentity(); err != nil {
		return UserDataResult{}, err
	}
	iscsiData := s.ISCSIData
	if iscsiData != nil && s.IPXE != nil {
		v := *iscsiData
		v.BootTargetIQN = s.IPXE.TargetIQN
		iscsiData = &v
	}
	if s.Guest == Windows {
		if s.NVMeData != nil {
			return UserDataResult{}, fmt.Errorf("NVMe/TCP data volumes on a Windows guest: Windows has no NVMe/TCP initiator this tool drives; use iSCSI")
		}
		if len(s.Extra) > 0 {
			return UserDataResult{}, fmt.Errorf("extra user data parts on a Windows guest: Windows does not run parts of multipart user data; put the script in the image")
		}
		if iscsiData != nil {
			ps, err := RenderWindowsISCSI(*iscsiData)
			if err != nil {
				return UserDataResult{}, fmt.Errorf("windows data volumes: %w", err)
			}
			res.WindowsDataVolumes = ps
			res.Notes = append(res.Notes, "Windows guest: the data-volume PowerShell script is not in the user data (Windows would never run it there); run it once on the instance as an administrator, or bake it into the image.")
		}
	}
	var parts []Part
	if s.IPXE != nil {
		script, err := RenderIPXE(*s.IPXE)
		if err != nil {
			return UserDataResult{}, fmt.Errorf("iPXE script: %w", err)
		}
		if s.Guest == Windows {
			if err := checkSize(script); err != nil {
				return UserDataResult{}, err
			}
			res.UserData = script
			return res, nil
		}
		parts = append(parts, Part{ContentType: TypeIPXE, Filename: "sanboot.ipxe", Content: script})
	} else {
		script, err := RenderLocalBoot(*s.LocalBoot)
		if err != nil {
			return UserDataResult{}, fmt.Errorf("localboot script: %w", err)
		}
		parts = append(parts, Part{ContentType: TypeLocalBoot, Filename: "localboot.sh", Content: script})
		res.Notes = append(res.Notes, "LocalBoot: the workload runs from a copy of its boot volume on instance store, made afresh at every boot; keep persistent state on SAN data volumes.")
		if n := s.sharedLocalBootTarget(); n != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("LocalBoot: data volumes share target %s with the boot volume, so the workload's OS will also see the boot volume next to its hydrated copy (same file system UUIDs); prefer a separate target for data.", n))
		}
	}
	if s.Guest == Linux {
		if iscsiData != nil {
			script, err := RenderLinuxISCSI(*iscsiData)
			if err != nil {
				return UserDataResult{}, fmt.Errorf("iSCSI data volumes: %w", err)
			}
			parts = append(parts, Part{ContentType: TypePerBoot, Filename: "data-volumes-iscsi.sh", Content: script})
		}
		if s.NVMeData != nil {
			script, err := RenderLinuxNVMe(*s.NVMeData)
			if err != nil {
				return UserDataResult{}, fmt.Errorf("NVMe/TCP data volumes: %w", err)
			}
			parts = append(parts, Part{ContentType: TypePerBoot, Filename: "data-volumes-nvme.sh", Content: script})
		}
		extra, err := s.extraParts(parts)
		if err != nil {
			return UserDataResult{}, err
		}
		parts = append(parts, extra...)
	}
	all := append([]Part{{ContentType: TypePartHandler, Filename: "outposts-ha-parts.py", Content: []byte(partHandler)}}, parts...)
	packed := make([]Part, len(all))
	for i, p := range all {
		packed[i] = p
		switch p.ContentType {
		case TypeLocalBoot, TypePerBoot:
			packed[i].Content = pack(stripComments(p.Content))
		case TypePerInstance:
			packed[i].Content = pack(p.Content)
		}
	}
	doc, err := Multipart(packed)
	if err != nil {
		return UserDataResult{}, err
	}
	if err := checkSize(doc); err != nil {
		return UserDataResult{}, err
	}
	res.UserData, res.Parts = doc, all
	return res, nil
}

// PackedMarker starts a part that the part handler unpacks (gzip, then
// base64): the scripts are compressed so that boot, data volumes and the
// operator's parts fit the 16 KiB user data limit together.
const PackedMarker = "#outposts-ha:gzip+base64\n"

// stripComments drops the full-line comments of a script this package
// generated (never of the operator's: a here-document could hold such lines),
// keeping the #! line. The commented script is in UserDataResult.Parts.
func stripComments(script []byte) []byte {
	lines := bytes.SplitAfter(script, []byte("\n"))
	out := make([]byte, 0, len(script))
	for i, l := range lines {
		if i > 0 && bytes.HasPrefix(bytes.TrimLeft(l, " \t"), []byte("#")) {
			continue
		}
		out = append(out, l...)
	}
	return out
}

// pack compresses a script deterministically (no time stamp in the header).
func pack(script []byte) []byte {
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // a valid level never fails
	w.Write(script)
	w.Close()
	enc := base64.StdEncoding.EncodeToString(z.Bytes())
	var b bytes.Buffer
	b.WriteString(PackedMarker)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteByte('\n')
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	return b.Bytes()
}

// UnpackPart returns the script inside a part, unpacking it when the part
// handler would. Tests and the SAN boot lab use it on parsed user data.
func UnpackPart(p Part) ([]byte, error) {
	rest, ok := bytes.CutPrefix(p.Content, []byte(PackedMarker))
	if !ok {
		return p.Content, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(rest), "\n", ""))
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", p.Filename, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", p.Filename, err)
	}
	out, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", p.Filename, err)
	}
	return out, nil
}

// checkIdentity enforces one identity per workload: the data volumes use the
// initiator the instance boots with.
func (s UserDataSpec) checkIdentity() error {
	bootIQN, bootNQN := "", ""
	switch {
	case s.IPXE != nil:
		bootIQN = s.IPXE.InitiatorIQN
	case s.LocalBoot.Protocol == ProtocolISCSI:
		bootIQN = s.LocalBoot.Initiator
	default:
		bootNQN = s.LocalBoot.Initiator
	}
	if d := s.ISCSIData; d != nil && bootIQN != "" && d.InitiatorIQN != bootIQN {
		return fmt.Errorf("iSCSI data volumes use initiator %q but the instance boots as %q: a workload has one iSCSI identity", d.InitiatorIQN, bootIQN)
	}
	if d := s.NVMeData; d != nil && bootNQN != "" && d.HostNQN != bootNQN {
		return fmt.Errorf("NVMe data volumes use host NQN %q but the instance boots as %q: a workload has one NVMe identity", d.HostNQN, bootNQN)
	}
	return nil
}

func (s UserDataSpec) sharedLocalBootTarget() string {
	lb := s.LocalBoot
	if d := s.ISCSIData; d != nil && lb.Protocol == ProtocolISCSI {
		for _, t := range d.Targets {
			if t.IQN == lb.Target {
				return t.IQN
			}
		}
	}
	if d := s.NVMeData; d != nil && lb.Protocol == ProtocolNVMeTCP {
		for _, t := range d.Subsystems {
			if t.NQN == lb.Target {
				return t.NQN
			}
		}
	}
	return ""
}

// extraParts checks the operator's parts and routes their shell scripts
// through the part handler, so that they run in the workload's OS only.
func (s UserDataSpec) extraParts(ours []Part) ([]Part, error) {
	names := map[string]bool{}
	for _, p := range ours {
		names[p.Filename] = true
	}
	out := make([]Part, 0, len(s.Extra))
	for i, p := range s.Extra {
		if !filenameRE().MatchString(p.Filename) || names[p.Filename] {
			return nil, fmt.Errorf("extra part %d file name %q: use a unique name of 1-64 letters, digits, '.', '_' or '-'", i+1, p.Filename)
		}
		names[p.Filename] = true
		if err := checkText(p.Content); err != nil {
			return nil, fmt.Errorf("extra part %s %w", p.Filename, err)
		}
		switch p.ContentType {
		case TypeCloudConfig:
			if s.LocalBoot != nil {
				return nil, fmt.Errorf("extra part %s: cloud-config under LocalBoot would apply to the helper too; use a shell script part or the image", p.Filename)
			}
			out = append(out, p)
		case TypeShellScript:
			if !bytes.HasPrefix(p.Content, []byte("#!")) {
				return nil, fmt.Errorf("extra part %s: a shell script part must start with #! (it is run as a file)", p.Filename)
			}
			out = append(out, Part{ContentType: TypePerInstance, Filename: p.Filename, Content: p.Content})
		default:
			return nil, fmt.Errorf("extra part %s type %q: use %s or %s", p.Filename, p.ContentType, TypeCloudConfig, TypeShellScript)
		}
	}
	return out, nil
}

func checkSize(doc []byte) error {
	if len(doc) > MaxUserDataBytes {
		return fmt.Errorf("user data is %d bytes: EC2 takes at most %d (before base64); drop extra parts, or move scripts into the image", len(doc), MaxUserDataBytes)
	}
	return nil
}

// partHandler is the cloud-init part handler at the head of every multipart
// user data. cloud-init runs it once per instance, before the scripts stage;
// the scripts it installs then run in that same boot and, for per-boot, at
// every boot after.
var partHandler = strings.TrimLeft(`
#part-handler
# outposts-ha: routes the parts of this user data. Generated by outposts-ha.
#   text/ipxe                        read by the iPXE loader only: skipped here
#   text/x-outposts-ha-localboot     LocalBoot helper only: runs at every boot
#   text/x-outposts-ha-per-boot      the workload's OS only: runs at every boot
#   text/x-outposts-ha-per-instance  the workload's OS only: runs once per instance
# The helper is told apart by the tool it ships, /usr/local/bin/localboot.
import base64
import os
import zlib

HELPER = "/usr/local/bin/localboot"
SCRIPTS = "/var/lib/cloud/scripts"
PREFIX = "outposts-ha-"
PACKED = "#outposts-ha:gzip+base64\n"
ROUTES = {
    "text/ipxe": (None, None),
    "text/x-outposts-ha-localboot": (True, "per-boot"),
    "text/x-outposts-ha-per-boot": (False, "per-boot"),
    "text/x-outposts-ha-per-instance": (False, "per-instance"),
}


def list_types():
    return list(ROUTES)


def handle_part(data, ctype, filename, payload):
    if ctype == "__begin__":
        # Scripts from an earlier user data go, so only the current ones run.
        for sub in ("per-boot", "per-instance"):
            d = os.path.join(SCRIPTS, sub)
            for name in os.listdir(d) if os.path.isdir(d) else []:
                if name.startswith(PREFIX):
                    os.remove(os.path.join(d, name))
        return
    helper, sub = ROUTES.get(ctype, (None, None))
    if sub is None or helper != os.path.exists(HELPER):
        return
    d = os.path.join(SCRIPTS, sub)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, PREFIX + os.path.basename(filename))
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    if payload.startswith(PACKED):
        # gzip, then base64: the scripts are packed to fit the user data limit.
        payload = zlib.decompress(base64.b64decode(payload[len(PACKED):]), 31).decode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(fd, "w") as f:
        f.write(payload)
    os.chmod(path, 0o700)
`, "\n")
