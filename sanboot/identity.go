package sanboot

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// MaxNameLen is the longest iSCSI or NVMe qualified name, in bytes (RFC 7143
// §4.2.7.1 for iSCSI names; NVMF_NQN_SIZE in the NVMe base specification).
const MaxNameLen = 223

// DefaultIQNAuthority is the naming authority for generated initiator IQNs. It
// is the one the AWS Outposts helper images and their launch wizard use; sites
// with their own convention set identity.iqn_authority.
const DefaultIQNAuthority = "iqn.2006-03.com.amazon.aws"

var (
	iqnRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^iqn\.[0-9]{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:-]+)?$`)
	})
	iqnAuthorityRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^iqn\.[0-9]{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	})
	euiRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^eui\.[0-9a-f]{16}$`) })
	naaRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^naa\.([0-9a-f]{16}|[0-9a-f]{32})$`) })
	nqnRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^nqn\.[0-9]{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9._:-]+)?$`)
	})
	nqnUUIDRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	})
)

// ValidateIQN checks an iSCSI name in iqn., eui. or naa. form. Names are
// compared case-insensitively by the protocol, but this tool keeps them in their
// normalised, lowercase form so that the array, the iPXE script and the record
// agree byte for byte; an uppercase name is therefore refused, not folded.
func ValidateIQN(s string) error {
	if s == "" {
		return fmt.Errorf("is empty: give an iSCSI name such as iqn.1992-08.com.netapp:sn.1234")
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("is %d bytes: an iSCSI name is at most %d bytes", len(s), MaxNameLen)
	}
	if s != strings.ToLower(s) {
		return fmt.Errorf("%s has uppercase letters: write it in lowercase (iSCSI names are normalised to lowercase)", QuoteShort(s))
	}
	switch {
	case strings.HasPrefix(s, "iqn."):
		if !iqnRE().MatchString(s) {
			return fmt.Errorf("%s is not iqn.YYYY-MM.reversed.domain[:unique] with only a-z, 0-9, '-', '.', ':'", QuoteShort(s))
		}
	case strings.HasPrefix(s, "eui."):
		if !euiRE().MatchString(s) {
			return fmt.Errorf("%s is not eui. followed by 16 hex digits", QuoteShort(s))
		}
	case strings.HasPrefix(s, "naa."):
		if !naaRE().MatchString(s) {
			return fmt.Errorf("%s is not naa. followed by 16 or 32 hex digits", QuoteShort(s))
		}
	default:
		return fmt.Errorf("%s must start with iqn., eui. or naa.", QuoteShort(s))
	}
	return nil
}

// ValidateNQN checks an NVMe qualified name: nqn.YYYY-MM.reversed.domain[:unique]
// or the UUID form nqn.2014-08.org.nvmexpress:uuid:<uuid>.
func ValidateNQN(s string) error {
	if s == "" {
		return fmt.Errorf("is empty: give an NVMe qualified name such as nqn.2014-08.org.nvmexpress:uuid:<uuid>")
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("is %d bytes: an NQN is at most %d bytes", len(s), MaxNameLen)
	}
	if s != strings.ToLower(s) {
		return fmt.Errorf("%s has uppercase letters: write it in lowercase", QuoteShort(s))
	}
	if strings.HasPrefix(s, "nqn.2014-08.org.nvmexpress:uuid:") {
		if !nqnUUIDRE().MatchString(s) {
			return fmt.Errorf("%s is not nqn.2014-08.org.nvmexpress:uuid: followed by a lowercase UUID", QuoteShort(s))
		}
		return nil
	}
	if !nqnRE().MatchString(s) {
		return fmt.Errorf("%s is not nqn.YYYY-MM.reversed.domain[:unique] with only a-z, 0-9, '-', '.', '_', ':'", QuoteShort(s))
	}
	return nil
}

// ValidateIQNAuthority checks the iqn.YYYY-MM.reversed.domain prefix used for generated IQNs.
func ValidateIQNAuthority(s string) error {
	if !iqnAuthorityRE().MatchString(s) {
		return fmt.Errorf("%s is not iqn.YYYY-MM.reversed.domain (lowercase, no ':' part)", QuoteShort(s))
	}
	return nil
}

// ValidateWorkloadName checks a workload name; the rule lives in internal/naming.
func ValidateWorkloadName(s string) error { return naming.ValidateWorkload(s) }

// InitiatorIQN derives the workload's initiator IQN from its identity UUID:
// <authority>:outposts-ha.<workload>.<uuid>. The full 128-bit UUID keeps it
// unique across workloads and sites.
func InitiatorIQN(authority, workload string, id uuid.UUID) (string, error) {
	if authority == "" {
		authority = DefaultIQNAuthority
	}
	if err := ValidateIQNAuthority(authority); err != nil {
		return "", fmt.Errorf("iqn authority %w", err)
	}
	if err := ValidateWorkloadName(workload); err != nil {
		return "", fmt.Errorf("workload name %w", err)
	}
	if id == uuid.Nil {
		return "", fmt.Errorf("identity uuid is the nil UUID: generate one")
	}
	iqn := authority + ":outposts-ha." + workload + "." + id.String()
	if err := ValidateIQN(iqn); err != nil {
		return "", fmt.Errorf("generated IQN %w", err)
	}
	return iqn, nil
}

// HostNQN derives the workload's NVMe host NQN in the UUID form that
// nvme gen-hostnqn produces.
func HostNQN(id uuid.UUID) (string, error) {
	if id == uuid.Nil {
		return "", fmt.Errorf("identity uuid is the nil UUID: generate one")
	}
	return "nqn.2014-08.org.nvmexpress:uuid:" + id.String(), nil
}
