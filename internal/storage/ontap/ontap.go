// Package ontap drives a NetApp ONTAP cluster through the ONTAP REST API
// (ONTAP 9.x, https://<mgmt>/api, the API introduced with ONTAP 9.6). It
// implements storage.Array for one SVM and one protocol: iSCSI (LUNs, igroups,
// LUN maps) or NVMe/TCP (namespaces, subsystems, subsystem maps; NVMe/TCP needs
// an ONTAP release that serves it, 9.10.1 or later).
//
// Authentication is HTTP Basic on every request; ONTAP REST has no session, so
// Login only proves the credentials and the SVM with one cheap GET, and Logout
// does nothing. A 401 is therefore final (storage.KindAuth): there is nothing to
// renew.
//
// The client is verified against a modelled ONTAP API (an httptest server that
// speaks the documented paths, JSON shapes, error bodies, HAL pagination and
// asynchronous jobs), not against ONTAP hardware.
//
// Choices worth knowing:
//   - Only https:// endpoints are accepted, always: a plain-HTTP ONTAP endpoint
//     would carry the Basic credentials in clear text on every call. Private CAs
//     go through storage.TLSOptions.CAFile.
//   - Redirects are never followed, and pagination links are only followed when
//     they stay under the same array's /api, so credentials only ever go to the
//     configured endpoint.
//   - Errors are classified by HTTP status and ONTAP's error.code, never by the
//     English message (which is kept, redacted, only for the operator to read).
//   - Map reads back the LUN ID (or NVMe namespace ID) that ONTAP assigned.
//   - A hostile or broken array cannot leak the password or forge output (see
//     storage.Redactor): every error, log record and kept message is redacted
//     of every form of the password (plain, JSON-escaped, base64 of
//     user:password as in the Basic header) and stripped of terminal escapes;
//     target names and interface addresses must pass the answers file's
//     rules; LUNs with unsafe names are left out; a listing stops after
//     storage.MaxListPages pages or storage.MaxListBytes bytes; Unmap,
//     DeleteHost and DeleteVolume succeed only when a re-read shows the
//     object gone.
package ontap

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/lazyre"
	"github.com/outposts-ha/outposts-ha/internal/storage"
)

const vendor = "ontap"

// Defaults for Config fields left zero.
const (
	DefaultPageSize   = 500
	DefaultJobPoll    = time.Second
	DefaultJobTimeout = 5 * time.Minute
	maxPageSize       = 10000
)

// Config describes one ONTAP SVM to manage.
type Config struct {
	// Endpoint is https://host[:port] of the cluster or SVM management LIF.
	// http:// is refused (see the package comment), as are paths, queries and
	// user:password@ parts.
	Endpoint string
	// Credentials are an ONTAP user and password (Basic auth on every call).
	Credentials storage.Credentials
	// SVM is the storage VM that holds the LUNs or namespaces and serves the
	// protocol.
	SVM string
	// Protocol selects iSCSI (LUNs, igroups) or NVMe/TCP (namespaces,
	// subsystems). Zero means iSCSI.
	Protocol storage.Protocol
	// Subsystem names the NVMe subsystem Target reports when EnsureHost has not
	// been called on this client (for example when a later run only re-reads the
	// target). Optional; iSCSI ignores it.
	Subsystem string
	// HTTP is the client from storage.NewHTTPClient. Nil means a verifying
	// client with the system roots.
	HTTP *http.Client
	// Log receives request traces at Debug and changes at Info. Nil discards.
	// Nothing secret is ever logged.
	Log *slog.Logger
	// PageSize is max_records per collection GET. Zero means DefaultPageSize.
	PageSize int
	// JobPoll and JobTimeout pace and bound the wait for ONTAP's asynchronous
	// jobs (HTTP 202). Zero means the defaults.
	JobPoll    time.Duration
	JobTimeout time.Duration
}

// Client talks to one SVM. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	creds      storage.Credentials
	red        *storage.Redactor // every form of the password, base64 user:password included
	svm        string
	proto      storage.Protocol
	http       *http.Client
	log        *slog.Logger
	pageSize   int
	jobPoll    time.Duration
	jobTimeout time.Duration

	mu        sync.Mutex
	subsystem string // NVMe subsystem of the last EnsureHost, or Config.Subsystem
}

var _ storage.Array = (*Client)(nil)

var (
	// objectNameRE covers SVM, igroup and subsystem names. It leaves out ONTAP's
	// query operators (* | ! < > ,) so a name can never widen a lookup.
	objectNameRE   = lazyre.NewBounded(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`, 96)
	snapshotNameRE = lazyre.NewBounded(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`, 255)
	idRE           = lazyre.NewBounded(`^[A-Za-z0-9][A-Za-z0-9-]*$`, 64)
)

// New validates the configuration. It does no I/O.
func New(c Config) (*Client, error) {
	base, err := parseEndpoint(c.Endpoint)
	if err != nil {
		return nil, err
	}
	if c.Credentials.Username == "" {
		return nil, fmt.Errorf("ontap: Credentials.Username is empty: give the ONTAP user (for example vsadmin)")
	}
	if c.Credentials.Secret == "" {
		return nil, fmt.Errorf("ontap: Credentials.Secret is empty: give the ONTAP password (from Secrets Manager, an environment variable or a prompt)")
	}
	if !objectNameRE().MatchString(c.SVM) {
		return nil, fmt.Errorf("ontap: SVM %q: give the SVM name (letters, digits, '_', '.', '-')", c.SVM)
	}
	proto := c.Protocol
	if proto == "" {
		proto = storage.ISCSI
	}
	if proto != storage.ISCSI && proto != storage.NVMeTCP {
		return nil, fmt.Errorf("ontap: Protocol %q: use %q or %q", c.Protocol, storage.ISCSI, storage.NVMeTCP)
	}
	if c.Subsystem != "" && !objectNameRE().MatchString(c.Subsystem) {
		return nil, fmt.Errorf("ontap: Subsystem %q: give an NVMe subsystem name (letters, digits, '_', '.', '-')", c.Subsystem)
	}
	if c.PageSize < 0 || c.PageSize > maxPageSize {
		return nil, fmt.Errorf("ontap: PageSize %d is out of range 0-%d", c.PageSize, maxPageSize)
	}
	if c.JobPoll < 0 || c.JobTimeout < 0 {
		return nil, fmt.Errorf("ontap: JobPoll and JobTimeout must not be negative")
	}
	hc := c.HTTP
	if hc == nil {
		var err error
		if hc, _, err = storage.NewHTTPClient(storage.TLSOptions{}); err != nil {
			return nil, fmt.Errorf("ontap: %w", err)
		}
	}
	own := *hc // a copy, so refusing redirects does not change the caller's client
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	red := storage.NewRedactor(c.Credentials)
	log := red.Logger(c.Log)
	cl := &Client{
		base:       base,
		creds:      c.Credentials,
		red:        red,
		svm:        c.SVM,
		proto:      proto,
		http:       &own,
		log:        log.With("vendor", vendor, "array", base.Host, "svm", c.SVM),
		pageSize:   orDefault(c.PageSize, DefaultPageSize),
		jobPoll:    orDefault(c.JobPoll, DefaultJobPoll),
		jobTimeout: orDefault(c.JobTimeout, DefaultJobTimeout),
		subsystem:  c.Subsystem,
	}
	return cl, nil
}

func orDefault[T int | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// parseEndpoint accepts https://host[:port] and nothing else.
func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return nil, fmt.Errorf("ontap: Endpoint %q is not a URL: use https://host[:port] of the management LIF", s)
	}
	switch {
	case u.Scheme == "http":
		return nil, fmt.Errorf("ontap: Endpoint %q uses http://: the array password would cross the network in clear text; use https:// (and --array-ca-file for a private CA)", s)
	case u.Scheme != "https":
		return nil, fmt.Errorf("ontap: Endpoint %q: use https://host[:port]", s)
	case u.User != nil:
		return nil, fmt.Errorf("ontap: Endpoint must not carry user:password@; pass credentials separately")
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("ontap: Endpoint %q has no host: use https://host[:port]", s)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("ontap: Endpoint %q: give only https://host[:port]; the client adds /api itself", s)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("ontap.Client{endpoint: %s, svm: %s, protocol: %s}", c.base, c.svm, c.proto)
}

// GoString is String, so %#v cannot print the credentials either.
func (c *Client) GoString() string { return c.String() }
