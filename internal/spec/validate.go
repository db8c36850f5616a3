package spec

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/recovery"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// Problem is one thing wrong with the answers: the YAML key, what is wrong, and
// how to fix it.
type Problem struct {
	Field   string
	Message string
	Fix     string
}

func (p Problem) String() string {
	s := p.Field + ": " + p.Message
	if p.Fix != "" {
		s += " (fix: " + p.Fix + ")"
	}
	return s
}

// Problems is every problem found, in the order of the answers file. It is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := []string{fmt.Sprintf("the answers have %d problem(s):", len(ps))}
	for _, p := range ps {
		lines = append(lines, "  - "+p.String())
	}
	return strings.Join(lines, "\n")
}

// Fields returns the field names, for tests and summaries.
func (ps Problems) Fields() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Field
	}
	return out
}

var (
	subnetRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^subnet-[0-9a-f]{8}([0-9a-f]{9})?$`) })
	sgRE       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^sg-[0-9a-f]{8}([0-9a-f]{9})?$`) })
	amiRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`) })
	outpostRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^op-[0-9a-f]{17}$`) })
	itypeRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$`) })
	keyPairRE  = sync.OnceValue(func() matcher { return classOf{regexp.MustCompile(`^[A-Za-z0-9 ._:/@-]*$`), 1, 255} })
	profileRE  = sync.OnceValue(func() matcher { return classOf{regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]*$`), 1, 128} })
	envNameRE  = sync.OnceValue(func() matcher { return classOf{regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`), 1, 128} })
	volNameRE  = sync.OnceValue(func() matcher { return classOf{regexp.MustCompile(`^[A-Za-z0-9/_.:-]*$`), 1, 255} })
	svmRE      = sync.OnceValue(func() matcher { return classOf{regexp.MustCompile(`^[A-Za-z0-9_.-]*$`), 1, 47} })
	userNameRE = sync.OnceValue(func() matcher { return classOf{regexp.MustCompile(`^[A-Za-z0-9_.@\\-]*$`), 1, 64} })
	// emailRE is the address form the recovery stack's NotificationEmail
	// parameter accepts (CloudFormation enforces the same pattern).
	// It is ^[A-Za-z0-9._%+-]{1,64}@LABEL(?:\.LABEL)+$ with LABEL
	// [A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?, checked as the pattern
	// with `*`/`+` for the counts plus the lengths (local part at most 64,
	// each label at most 63): the counted form compiles to 143 KB. '@' and
	// '.' cannot occur inside the parts they delimit; all of it is ASCII.
	// TestEmailMatchesCountedPattern checks it against the counted pattern.
	emailRE = sync.OnceValue(func() matcher {
		re := regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
		return matchFunc(func(s string) bool {
			at := strings.IndexByte(s, '@')
			if !re.MatchString(s) || at > 64 {
				return false
			}
			for _, label := range strings.Split(s[at+1:], ".") {
				if len(label) > 63 {
					return false
				}
			}
			return true
		})
	})
)

// matcher is what validation asks of a pattern: a *regexp.Regexp or a classOf.
type matcher interface{ MatchString(string) bool }

// matchFunc lets a check stand where a pattern was used.
type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

// classOf matches what a pattern ending in a counted character class
// (^[...]{1,255}$) would, without the compiled program of the counted
// repetition, which grows with the count (that one alone compiles to about
// 240 KB). re is the pattern with `*` for the count and matches only ASCII, so
// a string's length in bytes is its length in characters; lo..hi bound the
// whole string. TestClassOfMatchesCountedPattern checks each against its
// original pattern.
type classOf struct {
	re     *regexp.Regexp
	lo, hi int
}

func (c classOf) MatchString(s string) bool {
	return len(s) >= c.lo && len(s) <= c.hi && c.re.MatchString(s)
}

// Vendors and protocols the tool supports.
var (
	Vendors   = []string{"ontap", "pure", "powerstore", "alletra", "generic"}
	Protocols = []string{"iscsi", "nvme-tcp"}
)

type checker struct{ ps Problems }

func (c *checker) add(field, msg, fix string) {
	c.ps = append(c.ps, Problem{Field: field, Message: msg, Fix: fix})
}

// Validate returns every problem at once, or nil. It never does I/O.
func (s *Spec) Validate() error {
	c := &checker{}
	c.controlChars(reflect.ValueOf(*s), "")
	if len(c.ps) > 0 {
		// A line break or control character could reach a script; report only those
		// so the operator fixes them first.
		return c.ps
	}

	if err := sanboot.ValidateWorkloadName(s.Workload); err != nil {
		// internal/naming quotes the whole value: echo only its start.
		msg, fix := splitFix(strings.Replace(err.Error(), strconv.Quote(s.Workload), q(s.Workload), 1))
		if fix == "" {
			fix = "use lowercase letters, digits and '-', e.g. web01"
		}
		c.add("workload", msg, fix)
	}
	if msg, fix := regionProblem(s.Region); msg != "" {
		c.add("region", msg, fix)
	}
	if s.GuestOS != "linux" && s.GuestOS != "windows" {
		c.add("guest_os", q(s.GuestOS)+" is not supported", "use linux or windows")
	}
	s.validateStorage(c)
	s.validateIdentity(c)
	s.validateOutposts(c)
	s.validateInstance(c)
	s.validateLNI(c)
	if f := s.Boot.UEFIFilename; f != "" {
		if err := sanboot.ValidateEFIPath(f); err != nil {
			c.add("boot.uefi_filename", err.Error(), `quote it in single quotes in YAML: '\EFI\redhat\shimx64.efi'`)
		}
		if s.BootMode() != "sanboot" {
			c.add("boot.uefi_filename", "only applies to iSCSI SAN boot", "remove it: LocalBoot boots the hydrated local copy")
		}
	}
	s.validateFailover(c)
	if s.Guest.CloudConfig != "" && s.GuestOS == "windows" {
		c.add("guest.cloud_config", "is not run on Windows guests", "remove it; Windows does not run cloud-init parts of user data")
	}
	if s.Guest.CloudConfig != "" && s.BootMode() == "localboot" {
		c.add("guest.cloud_config", "would also run on the LocalBoot helper", "remove it, or put the settings in the image")
	}
	if len(c.ps) == 0 {
		return nil
	}
	return c.ps
}

// controlChars walks every string in the spec and rejects line breaks and other
// control characters, which is what would let input add a line to a script.
func (c *checker) controlChars(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			c.controlChars(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			p := name
			if path != "" {
				p = path + "." + name
			}
			c.controlChars(v.Field(i), p)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			c.controlChars(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		str := v.String()
		if path == "guest.cloud_config" {
			// Multi-line by nature; it travels as its own MIME part, never inside a script.
			for _, r := range str {
				if r != '\n' && r != '\t' && r != '\r' && unicode.IsControl(r) {
					c.add(path, "contains a control character", "remove non-printing characters")
					return
				}
			}
			return
		}
		for _, r := range str {
			if r == '\n' || r == '\r' {
				c.add(path, "contains a line break", "put the value on one line")
				return
			}
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				c.add(path, "contains a control character", "remove non-printing characters")
				return
			}
		}
	}
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Spec) validateStorage(c *checker) {
	st := s.Storage
	vendorOK, protoOK := oneOf(st.Vendor, Vendors), oneOf(st.Protocol, Protocols)
	if !vendorOK {
		c.add("storage.vendor", q(st.Vendor)+" is not a supported vendor", "use one of "+strings.Join(Vendors, ", "))
	}
	if !protoOK {
		c.add("storage.protocol", q(st.Protocol)+" is not a supported protocol", "use iscsi or nvme-tcp")
	}
	if st.Protocol == "nvme-tcp" && s.GuestOS == "windows" && len(st.Data) > 0 {
		c.add("storage.data", "NVMe/TCP data volumes are not supported on Windows guests", "use iscsi for Windows data volumes")
	}
	switch {
	case st.Vendor == "generic":
		if st.Management != nil {
			c.add("storage.management", "the generic vendor has no management API", "remove storage.management; allow the initiator on the array yourself")
		}
	case vendorOK:
		s.validateManagement(c)
	}
	var subnet netip.Prefix
	if l := s.LNI.Static; l != nil {
		if p, err := netip.ParsePrefix(l.Address); err == nil && p.Addr().Is4() {
			subnet = p
		}
	}
	s.validateVolume(c, "storage.boot", st.Boot, vendorOK, protoOK, subnet)
	s.validateBootPaths(c)
	for i, v := range st.Data {
		s.validateVolume(c, fmt.Sprintf("storage.data[%d]", i), v, vendorOK, protoOK, subnet)
	}
	if len(st.Data) > MaxDataVolumes {
		c.add("storage.data", fmt.Sprintf("has %d volumes", len(st.Data)), fmt.Sprintf("attach at most %d data volumes per workload", MaxDataVolumes))
	}
	// A data volume must not be the boot volume, nor repeat another data volume:
	// the guest would mount the running root, or one disk twice.
	seen := map[string]string{}
	key := func(v Volume) []string {
		var ks []string
		if v.Volume != "" {
			ks = append(ks, "volume "+v.Volume)
		}
		if v.Target != "" && v.LUN != nil {
			ks = append(ks, fmt.Sprintf("target %s lun %d", v.Target, *v.LUN))
		}
		return ks
	}
	for _, k := range key(st.Boot) {
		seen[k] = "storage.boot"
	}
	for i, v := range st.Data {
		f := fmt.Sprintf("storage.data[%d]", i)
		for _, k := range key(v) {
			if other, dup := seen[k]; dup {
				what := "the boot volume"
				if other != "storage.boot" {
					what = "the same volume as " + other
				}
				c.add(f, "is "+what+" (same "+strings.SplitN(k, " ", 2)[0]+")", "list each volume once; the boot volume is never a data volume")
				break
			}
			seen[k] = f
		}
	}
}

// MaxDataVolumes is the most data volumes one workload attaches.
const MaxDataVolumes = 16

// MaxPortals is the most portals one volume lists.
const MaxPortals = 8

func (s *Spec) validateManagement(c *checker) {
	m := s.Storage.Management
	if m == nil {
		c.add("storage.management", "is missing", "give endpoint and credentials of the array's management API")
		return
	}
	if msg, fix := endpointProblem(m.Endpoint); msg != "" {
		c.add("storage.management.endpoint", msg, fix)
	}
	cr := m.Credentials
	n := 0
	if cr.SecretARN != "" {
		n++
		if err := sanboot.ValidateSecretARN(cr.SecretARN); err != nil {
			c.add("storage.management.credentials.secret_arn", err.Error(), "copy the secret's full ARN from Secrets Manager")
		}
	}
	if cr.Env != "" {
		n++
		if !envNameRE().MatchString(cr.Env) {
			c.add("storage.management.credentials.env", q(cr.Env)+" is not an environment variable name", "use uppercase letters, digits and '_', e.g. ARRAY_PASSWORD")
		}
	}
	if cr.Prompt {
		n++
	}
	switch {
	case n == 0:
		c.add("storage.management.credentials", "names no credential source", "set one of secret_arn, env or prompt: true")
	case n > 1:
		c.add("storage.management.credentials", "names more than one credential source", "keep exactly one of secret_arn, env, prompt")
	}
	needsUser := s.Storage.Vendor != "pure"
	switch {
	case needsUser && m.Username == "":
		c.add("storage.management.username", "is empty", "give the array user the tool logs in as")
	case !needsUser && m.Username != "":
		c.add("storage.management.username", "is not used by Pure FlashArray", "remove it; the API token in the credentials identifies the user")
	case m.Username != "" && !userNameRE().MatchString(m.Username):
		c.add("storage.management.username", q(m.Username)+" has characters arrays do not accept", "use letters, digits, '_', '.', '@', '-'")
	}
	if s.Storage.Vendor == "ontap" {
		if m.SVM == "" {
			c.add("storage.management.svm", "is empty", "name the storage VM (SVM) that serves the LUNs")
		} else if !svmRE().MatchString(m.SVM) {
			c.add("storage.management.svm", q(m.SVM)+" is not an SVM name", "use letters, digits, '_', '.', '-'")
		}
	} else if m.SVM != "" {
		c.add("storage.management.svm", "only applies to NetApp ONTAP", "remove it")
	}
}

// bootPathsUUID stands in for the workload's identity UUID when the boot
// paths are sized: the generated initiator IQN's length does not depend on it.
var bootPathsUUID = uuid.MustParse("00000000-0000-4000-8000-000000000000")

// validateBootPaths refuses boot portals iPXE cannot hand to the booted OS
// (sanboot.CheckBootPaths: the iBFT's room under BIOS, the proved path count
// under UEFI). It runs only when the boot volume's own checks passed; for
// vendors whose portals setup discovers, RenderIPXE applies the same check.
func (s *Spec) validateBootPaths(c *checker) {
	b := s.Storage.Boot
	if s.BootMode() != "sanboot" || len(b.Portals) == 0 || b.Target == "" || sanboot.ValidateIQN(b.Target) != nil {
		return
	}
	iqn, err := sanboot.InitiatorIQN(s.Identity.IQNAuthority, s.Workload, bootPathsUUID)
	if err != nil {
		return // reported on identity or workload
	}
	cfg := sanboot.IPXE{InitiatorIQN: iqn, TargetIQN: b.Target, CHAPSecretARN: b.CHAPSecretARN,
		LNI: &sanboot.LNI{Index: 1}, Filename: s.Boot.UEFIFilename}
	if s.LNI.Static != nil {
		cfg.LNI.Static = &sanboot.StaticAddress{}
	}
	for i, ps := range b.Portals {
		p, err := sanboot.ParsePortal(ps, sanboot.ISCSIPort)
		if err != nil {
			return // reported on the portal
		}
		if len(b.PortalTargets) == len(b.Portals) {
			p.Target = b.PortalTargets[i]
		}
		cfg.Portals = append(cfg.Portals, p)
	}
	var e *sanboot.BootPathsError
	if err := cfg.CheckBootPaths(); errors.As(err, &e) {
		msg, fix := splitBootPaths(e)
		c.add("storage.boot.portals", msg, fix)
	}
}

// splitBootPaths turns a BootPathsError into the message and the fix.
func splitBootPaths(e *sanboot.BootPathsError) (msg, fix string) {
	if e.UEFI {
		return fmt.Sprintf("lists %d portals, and a UEFI SAN boot is proved with at most %d paths", e.Paths, sanboot.MaxUEFIBootPaths),
			fmt.Sprintf("list at most %d boot portals; the guest can add the others (Linux dm-multipath, Windows MPIO)", sanboot.MaxUEFIBootPaths)
	}
	msg = fmt.Sprintf("lists %d portals, and a BIOS SAN boot hands the OS its paths in an iBFT of at most %d bytes; these need up to %d (%s)", e.Paths, sanboot.BIOSIBFTMax, e.Need, e.Detail)
	if e.Fit == 0 {
		return msg, "shorten identity.iqn_authority, the workload name or the target name, or boot UEFI (set boot.uefi_filename)"
	}
	return msg, fmt.Sprintf("list at most %d boot portals (the guest can add the others: Linux dm-multipath, Windows MPIO), or boot UEFI (set boot.uefi_filename)", e.Fit)
}

// maxNamespaceID is the largest NVMe namespace ID the answers take.
const maxNamespaceID = 4095

// lunLimits is the iSCSI LUN range a vendor assigns, inside what the iPXE SAN
// URI can carry (0-sanboot.MaxSANLUN, see sanboot.LUNField).
type lunLimits struct {
	lo, hi int
	who    string // where the range comes from, for the fix text
}

// lunRange is the LUN range each vendor assigns. PowerStore's range was not
// found in its documentation here, so it gets what the encoding carries.
func lunRange(vendor string) lunLimits {
	switch vendor {
	case "ontap":
		return lunLimits{0, 4095, "ONTAP maps LUN IDs 0-4095"}
	case "pure":
		return lunLimits{1, 4095, "FlashArray connects volumes at LUN 1-4095"}
	case "alletra":
		return lunLimits{0, 16383, "HPE exports VLUNs at LUN 0-16383"}
	}
	return lunLimits{0, sanboot.MaxSANLUN, "the most an iPXE SAN URI carries"}
}

var ontapLUNPathRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/vol/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){1,2}$`) })

func (s *Spec) validateVolume(c *checker, field string, v Volume, vendorOK, protoOK bool, subnet netip.Prefix) {
	generic := s.Storage.Vendor == "generic"
	nvme := s.Storage.Protocol == "nvme-tcp"
	switch {
	case !vendorOK:
		// An unknown vendor is reported once; which keys a volume needs depends on it.
	case generic:
		if v.Volume != "" {
			c.add(field+".volume", "is not used by the generic vendor", "remove it; give target, portals and lun")
		}
		if v.Target == "" {
			c.add(field+".target", "is empty", "give the target IQN (iscsi) or subsystem NQN (nvme-tcp) the array serves")
		}
		if len(v.Portals) == 0 {
			c.add(field+".portals", "is empty", "list at least one portal IP[:port]")
		}
		if v.LUN == nil {
			c.add(field+".lun", "is missing", "give the LUN (or namespace ID) the array maps to this initiator")
		}
	case s.Storage.Vendor == "ontap":
		switch {
		case v.Volume == "":
			c.add(field+".volume", "is empty", "name the array volume by its ONTAP LUN path, /vol/VOLUME/LUN")
		case !ontapLUNPathRE().MatchString(v.Volume):
			c.add(field+".volume", q(v.Volume)+" is not an ONTAP LUN path", "write it as /vol/VOLUME/LUN (or /vol/VOLUME/QTREE/LUN)")
		}
	case v.Volume == "":
		c.add(field+".volume", "is empty", "name the array volume")
	case !volNameRE().MatchString(v.Volume):
		c.add(field+".volume", q(v.Volume)+" has characters array volume names cannot have", "use letters, digits, '/', '_', '.', ':', '-'")
	}
	if v.Target != "" && protoOK {
		if nvme {
			if err := sanboot.ValidateNQN(v.Target); err != nil {
				msg, fix := splitFix(err.Error())
				if strings.HasPrefix(strings.ToLower(v.Target), "iqn.") {
					msg, fix = "is an IQN, but storage.protocol is nvme-tcp", "set protocol: iscsi, or give the subsystem NQN"
				} else if fix == "" {
					fix = "give the subsystem NQN the array reports"
				}
				c.add(field+".target", msg, fix)
			}
		} else if err := sanboot.ValidateIQN(v.Target); err != nil {
			msg, fix := splitFix(err.Error())
			switch {
			case strings.HasPrefix(strings.ToLower(v.Target), "nqn."):
				msg, fix = "is an NQN, but storage.protocol is iscsi", "set protocol: nvme-tcp, or give the target IQN"
			case v.Target != strings.ToLower(v.Target) && len(v.Target) <= sanboot.MaxNameLen:
				msg, fix = "has uppercase letters", "write the IQN in lowercase (iSCSI names are normalised to lowercase)"
			case fix == "":
				fix = "give the target IQN the array reports"
			}
			c.add(field+".target", msg, fix)
		}
	}
	def := uint16(sanboot.ISCSIPort)
	if nvme {
		def = sanboot.NVMeTCPPort
	}
	seen := map[sanboot.Portal]int{}
	for i, ps := range v.Portals {
		f := fmt.Sprintf("%s.portals[%d]", field, i)
		p, err := sanboot.ParsePortal(ps, def)
		if err == nil && subnet.IsValid() {
			err = sanboot.CheckPortalInSubnet(p, subnet)
		}
		if err != nil {
			msg, fix := portalMessage(ps, err)
			if fix == "" {
				fix = "write IP[:port], e.g. 192.168.50.10:3260"
			}
			c.add(f, msg, fix)
			continue
		}
		if j, dup := seen[p]; dup {
			c.add(f, fmt.Sprintf("repeats portal %d (%s)", j, p), "list each portal once")
		}
		seen[p] = i
	}
	if n := len(v.PortalTargets); n > 0 {
		switch {
		case nvme:
			c.add(field+".portal_targets", "only applies to iSCSI", "remove it; an NVMe subsystem has one NQN")
		case n != len(v.Portals):
			c.add(field+".portal_targets", fmt.Sprintf("lists %d names for %d portals", n, len(v.Portals)), "give one target IQN per portal, in the order of portals")
		default:
			for i, t := range v.PortalTargets {
				if err := sanboot.ValidateIQN(t); err != nil {
					msg, fix := splitFix(err.Error())
					if fix == "" {
						fix = "give the target IQN the array reports for that portal"
					}
					c.add(fmt.Sprintf("%s.portal_targets[%d]", field, i), msg, fix)
				}
			}
		}
	}
	if len(v.Portals) > MaxPortals {
		c.add(field+".portals", fmt.Sprintf("lists %d portals", len(v.Portals)), fmt.Sprintf("list at most %d portals", MaxPortals))
	}
	if v.LUN != nil {
		r := lunRange(s.Storage.Vendor)
		lo, hi, what := r.lo, r.hi, "LUN"
		if nvme {
			lo, hi, what = 1, maxNamespaceID, "namespace ID"
		}
		if *v.LUN < lo || *v.LUN > hi {
			fix := fmt.Sprintf("use a %s in %d-%d", what, lo, hi)
			if !nvme && r.who != "" {
				fix += " (" + r.who + ")"
			}
			if !generic && vendorOK {
				fix += "; or leave it out and setup reads back the one the array assigns"
			}
			c.add(field+".lun", fmt.Sprintf("%d is out of range", *v.LUN), fix)
		}
	}
	if v.CHAPSecretARN != "" {
		if err := sanboot.ValidateSecretARN(v.CHAPSecretARN); err != nil {
			c.add(field+".chap_secret_arn", err.Error(), "give the full ARN of the secret that holds the CHAP credentials")
		}
	}
}

func (s *Spec) validateIdentity(c *checker) {
	if u := s.Identity.UUID; u != "" {
		id, err := uuid.Parse(u)
		switch {
		case err != nil || len(u) != 36:
			c.add("identity.uuid", q(u)+" is not a UUID", "remove it to have plan generate one, or paste the one from the record")
		case id == uuid.Nil:
			c.add("identity.uuid", "is the nil UUID", "remove it to have plan generate one")
		case u != strings.ToLower(u):
			c.add("identity.uuid", "has uppercase hex digits", "write it in lowercase: "+strings.ToLower(u))
		}
	}
	if a := s.Identity.IQNAuthority; a != "" {
		if err := sanboot.ValidateIQNAuthority(a); err != nil {
			c.add("identity.iqn_authority", err.Error(), "use iqn.YYYY-MM.reversed.domain, e.g. "+sanboot.DefaultIQNAuthority)
		}
	}
}

func (s *Spec) validateOutposts(c *checker) {
	o := s.Outposts
	check := func(field, v string) {
		switch {
		case v == "":
			c.add(field, "is empty", "give the subnet ID of that Outposts server, e.g. subnet-0abc1234def567890")
		case !subnetRE().MatchString(v):
			c.add(field, q(v)+" is not a subnet ID", "use subnet- followed by 8 or 17 hex digits")
		}
	}
	check("outposts.primary_subnet", o.PrimarySubnet)
	check("outposts.secondary_subnet", o.SecondarySubnet)
	if o.PrimarySubnet != "" && o.PrimarySubnet == o.SecondarySubnet {
		c.add("outposts.secondary_subnet", "is the same subnet as the primary", "give the subnet of the second Outposts server: N+1 needs two servers")
	}
	for _, f := range []struct{ name, v string }{{"outposts.primary_outpost", o.PrimaryOutpost}, {"outposts.secondary_outpost", o.SecondaryOutpost}} {
		if f.v != "" && !outpostRE().MatchString(f.v) {
			c.add(f.name, q(f.v)+" is not an Outpost ID", "use op- followed by 17 hex digits")
		}
	}
	if o.PrimaryOutpost != "" && o.PrimaryOutpost == o.SecondaryOutpost {
		c.add("outposts.secondary_outpost", "is the same Outpost as the primary", "each Outposts server is its own Outpost: give the second one's ID")
	}
	if s.Failover.Policy == "automatic" && o.PrimaryOutpost == "" {
		c.add("outposts.primary_outpost", "is required by the automatic policy", "give the primary Outpost ID so its ConnectedStatus can be watched")
	}
}

func (s *Spec) validateInstance(c *checker) {
	in := s.Instance
	req := func(field, v string, re matcher, what, fix string) {
		switch {
		case v == "":
			c.add(field, "is empty", fix)
		case !re.MatchString(v):
			c.add(field, q(v)+" is not "+what, fix)
		}
	}
	req("instance.type", in.Type, itypeRE(), "an EC2 instance type", "use a type both Outposts servers offer, e.g. c6id.2xlarge")
	req("instance.helper_ami", in.HelperAMI, amiRE(), "an AMI ID", "give the iPXE helper AMI (iscsi) or LocalBoot AMI (nvme-tcp) ID, ami-...")
	req("instance.security_group", in.SecurityGroup, sgRE(), "a security group ID", "give sg- followed by 8 or 17 hex digits")
	req("instance.instance_profile", in.InstanceProfile, profileRE(), "an instance profile name", "give the instance profile NAME whose role may read the CHAP secrets")
	if in.KeyPair != "" && !keyPairRE().MatchString(in.KeyPair) {
		c.add("instance.key_pair", q(in.KeyPair)+" is not a key pair name", "use the EC2 key pair name, or leave it out")
	}
	if r := in.InstanceProfileRole; r != "" && (!profileRE().MatchString(r) || len(r) > 64) {
		c.add("instance.instance_profile_role", q(r)+" is not an IAM role name (at most 64 characters)", "give the role name inside the instance profile, or leave it out")
	}
	if in.InstanceProfileRole == "" && len(in.InstanceProfile) > 64 {
		c.add("instance.instance_profile_role", "is needed: the profile name is longer than a role name can be", "give the name of the role inside the instance profile")
	}
}

func (s *Spec) validateLNI(c *checker) {
	l := s.LNI
	if l.DHCPTimeout != "" {
		d, err := time.ParseDuration(l.DHCPTimeout)
		switch {
		case err != nil:
			c.add("lni.dhcp_timeout", q(l.DHCPTimeout)+" is not a duration", "write it like 5s or 1m")
		case d < time.Second || d > 10*time.Minute:
			c.add("lni.dhcp_timeout", fmt.Sprintf("%v is out of range", d), "use 1s to 10m")
		}
		if l.Static != nil {
			c.add("lni.dhcp_timeout", "is set together with lni.static", "remove one: static addressing does not use DHCP")
		}
	}
	if st := l.Static; st != nil {
		if s.BootMode() != "sanboot" {
			c.add("lni.static", "only applies to iSCSI SAN boot", "remove it: the LocalBoot helper configures its own network")
		}
		p, err := netip.ParsePrefix(st.Address)
		switch {
		case err != nil || !p.Addr().Is4():
			c.add("lni.static.address", q(st.Address)+" is not an IPv4 address with a prefix", "write it like 192.168.50.20/24")
		case p.Bits() < 8 || p.Bits() > 30:
			c.add("lni.static.address", fmt.Sprintf("prefix /%d is out of range", p.Bits()), "use /8 to /30")
		default:
			if err := sanboot.CheckStaticAddress(p, netip.Addr{}); err != nil {
				msg, fix := splitFix(err.Error())
				c.add("lni.static.address", msg, fix)
				break
			}
			if st.Gateway != "" {
				g, err := netip.ParseAddr(st.Gateway)
				if err != nil || !g.Is4() {
					c.add("lni.static.gateway", q(st.Gateway)+" is not an IPv4 address", "give the SAN VLAN's gateway inside "+p.Masked().String()+", or leave it out")
				} else if err := sanboot.CheckStaticAddress(p, g); err != nil {
					msg, fix := splitFix(strings.TrimPrefix(err.Error(), "gateway "))
					if fix == "" {
						fix = "give the SAN VLAN's gateway, or leave it out"
					}
					c.add("lni.static.gateway", msg, fix)
				}
			}
		}
	}
}

func (s *Spec) validateFailover(c *checker) {
	f := s.Failover
	if _, err := recovery.ParsePolicy(f.Policy); err != nil {
		c.add("failover.policy", err.Error(), "confirmed is the safe default")
	}
	if f.Policy == string(recovery.PolicyAutomatic) && f.AutomaticRiskAcknowledgement != AutomaticAck {
		c.add("failover.automatic_risk_acknowledgement", "does not carry the required acknowledgement",
			fmt.Sprintf("the automatic policy may relaunch while a primary cut off only from the Region still writes; to accept, set it to exactly %q, or use policy: confirmed", AutomaticAck))
	}
	if f.Policy != string(recovery.PolicyAutomatic) && f.AutomaticRiskAcknowledgement != "" {
		c.add("failover.automatic_risk_acknowledgement", "is set but the policy is not automatic", "remove it")
	}
	if f.DetectionPeriods < 2 || f.DetectionPeriods > 10 {
		c.add("failover.detection_periods", fmt.Sprintf("%d is out of range", f.DetectionPeriods), "use 2-10 one-minute periods (default 3): 1 fails over on a reboot")
	}
	if f.DatapointsToAlarm < 1 || f.DatapointsToAlarm > f.DetectionPeriods {
		c.add("failover.datapoints_to_alarm", fmt.Sprintf("%d is not between 1 and detection_periods (%d)", f.DatapointsToAlarm, f.DetectionPeriods), "leave it out to use detection_periods")
	}
	switch {
	case f.NotificationEmail == "":
		c.add("failover.notification_email", "is empty", "give the on-call address that receives failover and approval notices")
	case !emailRE().MatchString(f.NotificationEmail):
		c.add("failover.notification_email", q(f.NotificationEmail)+" is not a plain email address", "write it as name@example.com: letters, digits and . _ % + - before the @, without a display name")
	}
}

// q echoes at most a short prefix of a bad value.
func q(v string) string { return sanboot.QuoteShort(v) }

// FieldError is one field's problem, for per-field checks in the guided flow:
// Message says what is wrong (without naming the field), Fix how to fix it.
type FieldError struct {
	Message string
	Fix     string
}

func (e *FieldError) Error() string {
	if e.Fix == "" {
		return e.Message
	}
	return e.Message + ": " + e.Fix
}

func fieldErr(msg, fix string) error {
	if msg == "" {
		return nil
	}
	return &FieldError{Message: msg, Fix: fix}
}

func regionProblem(r string) (msg, fix string) {
	if r == "" {
		return "is empty", "give the AWS Region the Outposts are anchored to, e.g. us-west-2"
	}
	if _, ok := sanboot.RegionPartition(r); ok {
		return "", ""
	}
	fix = "use a Region code such as us-west-2 (the AWS Regions list: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html)"
	if sug := sanboot.SuggestRegion(r); sug != "" {
		fix = "did you mean " + sug + "?"
	}
	return q(r) + " is not an AWS Region", fix
}

// ValidateRegion checks that r is a real AWS Region code (a *FieldError, or nil).
func ValidateRegion(r string) error { return fieldErr(regionProblem(r)) }

// ValidateEndpoint checks an array management endpoint: https://host[:port]
// with a plain ASCII host name or IP literal, a port in 1-65535, and no user
// info, path, query or fragment. A value holding user:password@ is never echoed.
func ValidateEndpoint(e string) error { return fieldErr(endpointProblem(e)) }

// ValidatePortal checks one portal as the answers file gives it (IP[:port]).
// Whether a portal is valid does not depend on the protocol's default port.
func ValidatePortal(p string) error {
	_, err := sanboot.ParsePortal(p, sanboot.ISCSIPort)
	if err != nil {
		return fieldErr(portalMessage(p, err))
	}
	return nil
}

// portalMessage splits a portal error into message and fix.
func portalMessage(v string, err error) (msg, fix string) {
	var pe *sanboot.PortalError
	if errors.As(err, &pe) {
		msg, fix = splitFix(pe.Reason)
		return q(v) + " " + msg, fix
	}
	return splitFix(err.Error())
}

// splitFix splits "what is wrong: how to fix it" at the first ": " outside
// double quotes.
func splitFix(s string) (msg, fix string) {
	inQ := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQ = !inQ
		case ':':
			if !inQ && i+1 < len(s) && s[i+1] == ' ' {
				return s[:i], s[i+2:]
			}
		}
	}
	return s, ""
}

var hostLabelRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`) })

func endpointProblem(e string) (msg, fix string) {
	const plain = "give a plain https://host[:port] URL: only scheme, host and port, e.g. https://array.example.net or https://10.0.0.5:8443"
	if e == "" {
		return "is empty", "give the array's management URL, e.g. https://10.0.0.5"
	}
	authority := e
	if _, after, ok := strings.Cut(authority, "://"); ok {
		authority = after
	}
	for _, sep := range []string{"/", "?", "#"} {
		authority, _, _ = strings.Cut(authority, sep)
	}
	if strings.Contains(authority, "@") {
		// The part before @ may be a password: never echo it.
		return "carries a user name or password before '@' (the value is not shown)", "remove user:password@; the password belongs in credentials (secret_arn, env or prompt) and the user in username"
	}
	if strings.Contains(e, "#") {
		return "has a #fragment (the value is not shown)", plain
	}
	for _, r := range e {
		if r > 0x7e || r < 0x21 {
			return "contains a character that is not plain ASCII (lookalike, bidi, zero-width or space characters are refused; the value is not shown)", "type the host name in plain ASCII; write an international name in its xn-- form"
		}
	}
	u, err := url.Parse(e)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return q(e) + " is not an https://host[:port] URL", plain
	case u.Scheme != "https":
		return "does not use https", "use https://; array credentials never travel in clear text"
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery:
		return q(e) + " has a path or query", plain
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || p != strconv.Itoa(n) {
			return "has port " + q(p) + ", out of range", "use a port from 1 to 65535 in plain decimal, or leave it out for 443"
		}
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || (a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255})) || a.Is4In6() {
			return "host " + q(host) + " is not a unicast address of an array", plain
		}
		if a.Is6() && !strings.Contains(u.Host, "[") {
			return q(e) + " has an IPv6 host without brackets", "write it as https://[fd00::5]"
		}
		return "", ""
	}
	if dotted := strings.Trim(host, "0123456789."); dotted == "" {
		return "host " + q(host) + " is not a valid IPv4 address", "give four numbers 0-255 separated by dots, or the array's host name"
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(host) > 253 {
		return "host name is longer than 253 characters", plain
	}
	for _, l := range labels {
		if !hostLabelRE().MatchString(l) {
			return "host " + q(host) + " is not a valid host name", "use letters, digits and '-' between dots, e.g. array1.example.net"
		}
	}
	return "", ""
}
