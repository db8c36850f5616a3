// Package pure drives a Pure Storage FlashArray through its REST API 2.x
// (https://<mgmt>/api/2.N/...). It implements storage.Array for iSCSI and
// NVMe/TCP hosts.
//
// Sessions: Login reads GET /api/api_version and uses the newest 2.x version
// the array offers (or Config.APIVersion when pinned), then exchanges the API
// token for a session with POST /api/2.N/login and the api-token header; the
// session token comes back in x-auth-token and goes on every later request.
// Logout ends it with POST /api/2.N/logout. A request refused with 401 or 403
// logs in again once and is retried once; a second refusal is storage.KindAuth.
// Calls made before Login log in on first use.
//
// Pure's REST 2.x errors carry no numeric codes: {"errors": [{"context",
// "message"}]}. The client classifies by HTTP status only and settles "already
// exists" and "already gone" by re-reading the array (a host, connection or
// snapshot that is there after a failed create is absorbed; one that is absent
// after a failed delete is success). It never looks at the English message,
// which it keeps, redacted, for the operator to read.
//
// The client is verified against a modelled FlashArray REST 2.x API (an
// httptest server with the documented paths, JSON shapes, session headers,
// error bodies and continuation_token paging), not against FlashArray hardware.
//
// Choices worth knowing:
//   - Only https:// endpoints are accepted, always: the API token and session
//     token would otherwise cross the network in clear text.
//   - Redirects are never followed (Go would forward the custom api-token and
//     x-auth-token headers to the new host).
//   - DeleteVolume destroys the volume (PATCH destroyed=true) but does not
//     eradicate it: it stays recoverable on the array until its eradication
//     delay passes.
//   - A hostile or broken array cannot leak a token or forge output (see
//     storage.Redactor): every error, log record and kept message is
//     redacted of every form of the API token and of each session token
//     (plain, upper-cased, JSON-escaped, base64) and stripped of terminal
//     escapes; the offered version list is cleaned and capped; target names
//     and portals must pass the answers file's rules; volumes with unsafe
//     names are left out; a listing stops after storage.MaxListPages pages
//     or storage.MaxListBytes bytes.
package pure

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/outposts-ha/outposts-ha/internal/lazyre"
	"github.com/outposts-ha/outposts-ha/internal/storage"
)

const vendor = "pure"

// DefaultPageSize is the limit per collection GET when Config.PageSize is zero.
const DefaultPageSize = 500

const maxPageSize = 10000

// Config describes one FlashArray.
type Config struct {
	// Endpoint is https://host[:port] of the array's management interface.
	// http:// is refused, as are paths, queries and user:password@ parts.
	Endpoint string
	// Credentials.Secret is the API token of an array user; Username is not
	// used by REST 2.x token login and may be empty.
	Credentials storage.Credentials
	// APIVersion pins a REST version such as "2.21". Empty means the newest
	// 2.x the array offers. A pinned version the array does not offer is
	// storage.KindUnsupported at Login.
	APIVersion string
	// HTTP is the client from storage.NewHTTPClient. Nil means a verifying
	// client with the system roots.
	HTTP *http.Client
	// Log receives request traces at Debug and changes at Info. Nil discards.
	// Tokens and headers are never logged.
	Log *slog.Logger
	// PageSize is the limit per collection GET. Zero means DefaultPageSize.
	PageSize int
}

// Client talks to one FlashArray. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	token    string
	red      *storage.Redactor // every form of the API token and of each session token
	pin      string
	http     *http.Client
	log      *slog.Logger
	pageSize int

	mu      sync.Mutex // guards version and session; held across (re)login
	version string     // "2.N" once negotiated
	session string     // x-auth-token of the open session
}

var _ storage.Array = (*Client)(nil)

var (
	versionRE = lazyre.New(`^2\.(0|[1-9][0-9]{0,3})$`)
	// hostNameRE follows FlashArray object names: letters, digits and '-',
	// starting with a letter or digit, at most 63 characters.
	hostNameRE = lazyre.NewBounded(`^[A-Za-z0-9][A-Za-z0-9-]*$`, 63)
	// volumeNameRE also allows the pod ("pod::vol") and volume-group
	// ("vg/vol") prefixes, and never a quote, so a name cannot break a filter.
	volumeNameRE = lazyre.NewBounded(`^[A-Za-z0-9][A-Za-z0-9_:/.-]*$`, 255)
	suffixRE     = lazyre.NewBounded(`^[A-Za-z0-9][A-Za-z0-9-]*$`, 64)
)

// New validates the configuration. It does no I/O.
func New(c Config) (*Client, error) {
	base, err := parseEndpoint(c.Endpoint)
	if err != nil {
		return nil, err
	}
	if c.Credentials.Secret == "" {
		return nil, fmt.Errorf("pure: Credentials.Secret is empty: give the array API token (from Secrets Manager, an environment variable or a prompt)")
	}
	if c.APIVersion != "" && !versionRE().MatchString(c.APIVersion) {
		return nil, fmt.Errorf("pure: APIVersion %q: give a REST 2.x version such as 2.21, or leave it empty for the newest", c.APIVersion)
	}
	if c.PageSize < 0 || c.PageSize > maxPageSize {
		return nil, fmt.Errorf("pure: PageSize %d is out of range 0-%d", c.PageSize, maxPageSize)
	}
	hc := c.HTTP
	if hc == nil {
		if hc, _, err = storage.NewHTTPClient(storage.TLSOptions{}); err != nil {
			return nil, fmt.Errorf("pure: %w", err)
		}
	}
	own := *hc // a copy, so refusing redirects does not change the caller's client
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	red := storage.NewRedactor(c.Credentials)
	log := red.Logger(c.Log)
	size := c.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	return &Client{
		base:     base,
		token:    c.Credentials.Secret,
		red:      red,
		pin:      c.APIVersion,
		http:     &own,
		log:      log.With("vendor", vendor, "array", base.Host),
		pageSize: size,
	}, nil
}

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return nil, fmt.Errorf("pure: Endpoint %q is not a URL: use https://host[:port] of the array", s)
	}
	switch {
	case u.Scheme == "http":
		return nil, fmt.Errorf("pure: Endpoint %q uses http://: the API token would cross the network in clear text; use https:// (and --array-ca-file for a private CA)", s)
	case u.Scheme != "https":
		return nil, fmt.Errorf("pure: Endpoint %q: use https://host[:port]", s)
	case u.User != nil:
		return nil, fmt.Errorf("pure: Endpoint must not carry user:password@; pass the API token separately")
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("pure: Endpoint %q has no host: use https://host[:port]", s)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("pure: Endpoint %q: give only https://host[:port]; the client adds /api itself", s)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

// String describes the client without its tokens.
func (c *Client) String() string {
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v == "" {
		v = "not negotiated"
	}
	return fmt.Sprintf("pure.Client{endpoint: %s, api: %s}", c.base, v)
}

// GoString is String, so %#v cannot print the tokens either.
func (c *Client) GoString() string { return c.String() }

// APIVersion returns the REST version in use after Login ("" before).
func (c *Client) APIVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}
