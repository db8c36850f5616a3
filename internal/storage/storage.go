// Package storage is the array vocabulary shared by setup, failback and cleanup,
// and the one small interface the wizard drives. Each vendor lives in its own
// sub-package and talks to the vendor's REST API with net/http only; none of
// them import the AWS SDK.
package storage

import (
	"context"
	"errors"
	"fmt"
)

// Protocol is the block transport between the Outposts server's LNI and the array.
type Protocol string

const (
	ISCSI   Protocol = "iscsi"
	NVMeTCP Protocol = "nvme-tcp"
)

// OSType is the host personality some arrays want on the host object.
type OSType string

const (
	Linux   OSType = "linux"
	Windows OSType = "windows"
)

// Volume is one array volume (LUN backing or NVMe namespace) an operator can choose.
type Volume struct {
	ID        string // the array's stable identifier (uuid, serial, name on HPE)
	Name      string // what the operator sees: ONTAP LUN path, Pure/Dell/HPE volume name
	SizeBytes int64
}

// Host is the array's host / initiator-group object for one workload identity.
type Host struct {
	ID   string // array identifier (ONTAP igroup uuid, Dell host id, Pure/HPE name)
	Name string
	// Initiators are the IQNs or host NQNs the array has on this host.
	Initiators []string
	// Created is true when EnsureHost created the host in this call, false when it already existed.
	Created bool
}

// HostSpec asks for a host object holding exactly one workload identity.
type HostSpec struct {
	Name      string   // array-side name, derived from the workload (for example "ohaweb01")
	Initiator string   // the workload's IQN (iSCSI) or host NQN (NVMe/TCP)
	Protocol  Protocol // decides iSCSI vs NVMe host attributes
	OS        OSType
}

// Mapping is a volume made visible to a host, with the ID the array really assigned.
type Mapping struct {
	Volume Volume
	HostID string
	// LUN is the logical unit number (iSCSI) or namespace ID (NVMe) that the array
	// reports after the map. It is what the iPXE script and the record use, never an
	// assumed 0 or 1.
	LUN int
}

// Endpoint is one portal the array serves the protocol on.
type Endpoint struct {
	Address string // IP literal
	Port    int    // 3260 for iSCSI, 4420 for NVMe/TCP unless the array says otherwise
}

// Target is what an initiator logs in to: an iSCSI target IQN or an NVMe subsystem
// NQN, with the portals that serve it.
type Target struct {
	Name      string // target IQN or subsystem NQN
	Protocol  Protocol
	Endpoints []Endpoint
}

// Snapshot is a point-in-time copy made before failback.
type Snapshot struct {
	ID     string
	Name   string
	Volume string
}

// Array is what the wizard needs from any vendor. Every method is safe to re-run:
// EnsureHost and Map find before they create; Unmap, DeleteHost and DeleteVolume
// treat an object that is already absent as success, and only that: when the
// array refuses (even with a "not found" code) and a re-read still finds the
// object, they return an error. No error, log record or returned string holds
// any form of a credential or a terminal escape (see Redactor).
type Array interface {
	// Login opens a session where the API has sessions; Logout closes it. Calls made
	// after a session expired re-authenticate once, transparently.
	Login(ctx context.Context) error
	Logout(ctx context.Context) error

	Volumes(ctx context.Context) ([]Volume, error)
	EnsureHost(ctx context.Context, h HostSpec) (Host, error)
	// Map maps the volume to the host and returns the LUN / namespace ID the array
	// assigned, read back from the array. lun < 0 lets the array choose.
	Map(ctx context.Context, host Host, vol Volume, lun int) (Mapping, error)
	Target(ctx context.Context, p Protocol) (Target, error)
	Snapshot(ctx context.Context, vol Volume, name string) (Snapshot, error)
	Unmap(ctx context.Context, host Host, vol Volume) error
	DeleteHost(ctx context.Context, host Host) error
	// DeleteVolume destroys data. The wizard calls it only when the operator asked by
	// flag and typed the workload name.
	DeleteVolume(ctx context.Context, vol Volume) error
}

// Kind classifies an array error so the wizard can tell the operator what to do.
// Vendor clients set it from HTTP status codes and vendor error codes, never from
// English message text.
type Kind int

const (
	KindUnknown       Kind = iota
	KindAuth               // credentials rejected or session could not be (re)opened
	KindNotFound           // the named object does not exist
	KindAlreadyExists      // create of an object that exists (callers usually absorb it)
	KindLUNConflict        // the requested LUN / namespace ID is in use for that host
	KindUnsupported        // the array does not serve this protocol / feature
	KindTransient          // 5xx, timeouts: safe to retry
	KindInvalid            // the array rejected the request body
)

func (k Kind) String() string {
	switch k {
	case KindAuth:
		return "auth failed"
	case KindNotFound:
		return "not found"
	case KindAlreadyExists:
		return "already exists"
	case KindLUNConflict:
		return "LUN ID conflict"
	case KindUnsupported:
		return "unsupported on this array"
	case KindTransient:
		return "temporary array error"
	case KindInvalid:
		return "request rejected"
	default:
		return "array error"
	}
}

// Error is the one error type vendor clients return for array-side failures.
// Its text never carries a control character or terminal escape, whatever the
// array sent (see Strip); clients also Scrub it of credentials.
type Error struct {
	Vendor string // "ontap", "pure", ...
	Op     string // "create host", "map volume", ...
	Kind   Kind
	Status int    // HTTP status, 0 when the request never got an answer
	Code   string // the vendor's machine-readable error code, when it has one
	Err    error  // underlying transport error, if any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s: %s", e.Vendor, e.Op, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d", e.Status)
		if code := Strip(e.Code); code != "" {
			msg += ", code " + code
		}
		msg += ")"
	}
	if e.Err != nil {
		msg += ": " + Strip(e.Err.Error())
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, storage.ErrNotFound) and friends match on Kind.
func (e *Error) Is(target error) bool {
	var k kindSentinel
	if errors.As(target, &k) {
		return e.Kind == Kind(k)
	}
	return false
}

type kindSentinel Kind

func (k kindSentinel) Error() string { return Kind(k).String() }

// Sentinels for errors.Is.
var (
	ErrAuth          error = kindSentinel(KindAuth)
	ErrNotFound      error = kindSentinel(KindNotFound)
	ErrAlreadyExists error = kindSentinel(KindAlreadyExists)
	ErrLUNConflict   error = kindSentinel(KindLUNConflict)
	ErrUnsupported   error = kindSentinel(KindUnsupported)
	ErrTransient     error = kindSentinel(KindTransient)
)

// KindOf returns the Kind of an array error, or KindUnknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}
