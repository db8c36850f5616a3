package powerstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/storage"
)

// Vendor is the value of storage.Error.Vendor for this package.
const Vendor = "powerstore"

const (
	apiPrefix   = "/api/rest"
	tokenHeader = "DELL-EMC-TOKEN" // #nosec G101 -- a header name, not a credential
	cookieName  = "auth_cookie"

	defaultPageSize = 1000 // PowerStore allows up to 2000 items per page
	maxBody         = 16 << 20
	logoutTimeout   = 30 * time.Second
)

// Config configures a Client.
type Config struct {
	// Endpoint is the management address, https://host[:port].
	Endpoint    string
	Credentials storage.Credentials
	// HTTP comes from storage.NewHTTPClient (TLS verified by default, a private
	// CA through TLSOptions.CAFile). Nil means storage.NewHTTPClient with
	// default, verifying options.
	HTTP *http.Client
	// Log receives request and progress records; nil discards them. It never
	// receives credentials, tokens, cookies or auth headers.
	Log *slog.Logger
}

// Client talks to one PowerStore cluster. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	creds    storage.Credentials
	red      *storage.Redactor // every form of the password and of each token and cookie
	http     *http.Client
	log      *slog.Logger
	pageSize int

	loginMu sync.Mutex // serialises logins
	mu      sync.Mutex // guards sess
	sess    *session
}

// session is one login: the CSRF token and the session cookie. Both are secrets.
type session struct {
	token  string
	cookie string
}

var _ storage.Array = (*Client)(nil)

// New validates the configuration and builds a client. It does no I/O.
func New(c Config) (*Client, error) {
	base, err := parseEndpoint(c.Endpoint)
	if err != nil {
		return nil, err
	}
	if c.Credentials.Username == "" || c.Credentials.Secret == "" {
		return nil, errors.New("powerstore: credentials need a username and a password")
	}
	hc := c.HTTP
	if hc == nil {
		hc, _, err = storage.NewHTTPClient(storage.TLSOptions{})
		if err != nil {
			return nil, fmt.Errorf("powerstore: build HTTP client: %w", err)
		}
	}
	// A copy, so that refusing redirects leaves the caller's client as it was.
	// On a redirect Go forwards the DELL-EMC-TOKEN header to any host, and the
	// Basic auth and auth_cookie to the same host name on another port or to a
	// subdomain. A 3xx becomes a storage.Error instead (see apiError).
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	red := storage.NewRedactor(c.Credentials)
	lg := red.Logger(c.Log)
	return &Client{
		base:     base,
		creds:    c.Credentials,
		red:      red,
		http:     &own,
		log:      lg.With("vendor", Vendor, "array", base.Host),
		pageSize: defaultPageSize,
	}, nil
}

// String names the array and never prints credentials or session secrets.
func (c *Client) String() string { return "powerstore.Client{" + c.base.Host + "}" }

// GoString is String, so that %#v cannot print the credentials either.
func (c *Client) GoString() string { return c.String() }

func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("powerstore: endpoint is empty: give https://<management address>")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("powerstore: endpoint %q is not a URL: %w", s, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("powerstore: endpoint %q must use https", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("powerstore: endpoint %q has no host", s)
	}
	if u.User != nil {
		return nil, errors.New("powerstore: endpoint must not carry credentials; use Config.Credentials")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("powerstore: endpoint %q must be https://host[:port] with no path", s)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

// call describes one REST request.
type call struct {
	op     string // what the operator reads in an error: "create host"
	method string
	path   string // below /api/rest, starting with "/"
	query  url.Values
	body   any
	rng    string // Range header value, for collection GETs
}

// reply is a successful response.
type reply struct {
	status int
	header http.Header
}

// opLogin opens a session. It is a no-op when a session is already open.
func (c *Client) opLogin(ctx context.Context) error {
	_, err := c.ensureSession(ctx)
	return err
}

func (c *Client) current() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

func (c *Client) ensureSession(ctx context.Context) (*session, error) {
	if s := c.current(); s != nil {
		return s, nil
	}
	return c.relogin(ctx, nil)
}

// relogin opens a new session unless another goroutine already replaced stale.
func (c *Client) relogin(ctx context.Context, stale *session) (*session, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if s := c.current(); s != nil && s != stale {
		return s, nil
	}
	s, err := c.login(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	return s, nil
}

type loginSession struct {
	ID                       string `json:"id"`
	IdleTimeout              int    `json:"idle_timeout"`
	IsPasswordChangeRequired bool   `json:"is_password_change_required"`
}

func (c *Client) login(ctx context.Context) (*session, error) {
	const op = "login"
	req, err := c.newRequest(ctx, call{op: op, method: http.MethodGet, path: "/login_session"}, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.creds.Username, c.creds.Secret)
	resp, body, err := c.send(req, op)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		e := c.apiError(op, resp.StatusCode, body)
		e.Kind = storage.KindAuth
		return nil, e
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.apiError(op, resp.StatusCode, body)
	}
	var info []loginSession
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &info); err != nil {
			return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: resp.StatusCode,
				Err: fmt.Errorf("decode login session: %w", err)}
		}
	}
	s := &session{token: resp.Header.Get(tokenHeader)}
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			s.cookie = ck.Value
		}
	}
	c.red.Add(s.token) // before anything could print them
	c.red.Add(s.cookie)
	if len(info) > 0 && info[0].IsPasswordChangeRequired {
		if s.token != "" && s.cookie != "" {
			_ = c.closeSession(ctx, s) // do not leave the refused session open; the auth error matters more
		}
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindAuth, Status: resp.StatusCode,
			Err: errors.New("the array requires a password change for this user before it accepts API calls")}
	}
	if s.token == "" || s.cookie == "" {
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindAuth, Status: resp.StatusCode,
			Err: errors.New("login response carried no DELL-EMC-TOKEN header or auth_cookie cookie")}
	}
	c.log.Info("logged in to array", "user", c.creds.Username)
	return s, nil
}

// opLogout closes the session. It runs even when ctx is already cancelled (a
// failed step must not leak a session), bounded by its own timeout. A session
// the array already dropped counts as closed.
func (c *Client) opLogout(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	s := c.sess
	c.sess = nil
	c.mu.Unlock()
	if s == nil {
		return nil
	}
	return c.closeSession(ctx, s)
}

func (c *Client) closeSession(ctx context.Context, s *session) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	const op = "logout"
	req, err := c.newRequest(ctx, call{op: op, method: http.MethodPost, path: "/logout"}, s)
	if err != nil {
		return err
	}
	resp, body, err := c.send(req, op)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode/100 == 2, resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		c.log.Info("logged out of array")
		return nil
	default:
		return c.apiError(op, resp.StatusCode, body)
	}
}

// do runs one call in the current session. A 401/403 means the session
// expired: it logs in once more and repeats the call once.
func (c *Client) do(ctx context.Context, k call, out any) (reply, error) {
	s, err := c.ensureSession(ctx)
	if err != nil {
		return reply{}, err
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, k, s)
		if err != nil {
			return reply{}, err
		}
		resp, body, err := c.send(req, k.op)
		if err != nil {
			return reply{}, err
		}
		if (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && attempt == 0 {
			c.log.Info("array session expired; logging in again", "op", k.op, "status", resp.StatusCode)
			if s, err = c.relogin(ctx, s); err != nil {
				return reply{}, err
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			e := c.apiError(k.op, resp.StatusCode, body)
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				e.Kind = storage.KindAuth
			}
			return reply{status: resp.StatusCode, header: resp.Header}, e
		}
		if out != nil && len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, out); err != nil {
				return reply{}, &storage.Error{Vendor: Vendor, Op: k.op, Kind: storage.KindUnknown, Status: resp.StatusCode,
					Err: fmt.Errorf("decode response: %w", err)}
			}
		}
		return reply{status: resp.StatusCode, header: resp.Header}, nil
	}
}

// newRequest builds a request; s nil means no session headers (login).
func (c *Client) newRequest(ctx context.Context, k call, s *session) (*http.Request, error) {
	u := *c.base
	u.Path = apiPrefix + k.path
	if len(k.query) > 0 {
		u.RawQuery = k.query.Encode()
	}
	var rdr io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return nil, &storage.Error{Vendor: Vendor, Op: k.op, Kind: storage.KindInvalid, Err: fmt.Errorf("encode request: %w", err)}
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u.String(), rdr)
	if err != nil {
		return nil, &storage.Error{Vendor: Vendor, Op: k.op, Kind: storage.KindInvalid, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Accept", "application/json")
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.rng != "" {
		req.Header.Set("Range", k.rng)
	}
	if s != nil {
		req.Header.Set(tokenHeader, s.token)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: s.cookie})
	}
	return req, nil
}

// send performs the request and reads the body. Transport errors lose the URL
// (it is logged separately) so that nothing request-specific leaks into text.
func (c *Client) send(req *http.Request, op string) (*http.Response, []byte, error) {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.Debug("array request failed", "op", op, "method", req.Method, "path", req.URL.Path)
		return nil, nil, transportError(op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, transportError(op, err)
	}
	c.log.Debug("array request", "op", op, "method", req.Method, "path", req.URL.Path,
		"status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	return resp, body, nil
}

// transportError classifies a failure that got no HTTP answer.
func transportError(op string, err error) *storage.Error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL is not part of the message
	}
	kind := storage.KindTransient
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &certErr), errors.As(err, &authErr), errors.As(err, &hostErr):
		kind = storage.KindUnknown
		err = fmt.Errorf("the array's TLS certificate is not trusted (give its CA with --array-ca-file): %w", err)
	case errors.Is(err, context.Canceled):
		kind = storage.KindUnknown
	}
	return &storage.Error{Vendor: Vendor, Op: op, Kind: kind, Err: err}
}

// errorBody is PowerStore's error document.
type errorBody struct {
	Messages []struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
		Message  string `json:"message_l10n"`
	} `json:"messages"`
}

// PowerStore error codes this client recognises (from Dell's gopowerstore
// api/error_codes.go and observed PowerStore responses).
const (
	codeUnknownVolume        = "0xE0A08001000E"
	codeNoHostForID          = "0xE0A010010003"
	codeInvalidInstance      = "0xE04040020002"
	codeInstanceNotFound     = "0xE04040020009"
	codeHostNotAttached      = "0xE0A01001001E"
	codeVolumeNotAttached    = "0xE0A010010020"
	codeNoHostVolumeMatch    = "0xE0A08001000F"
	codeVolumeNameInUse      = "0xE0A080010014"
	codeSnapshotNameInUse    = "0xE0A060010012"
	codeInitiatorAlreadyHost = "0xE0A01001000C"
	codeBadRange             = "0xE04040010005"
)

func (c *Client) apiError(op string, status int, body []byte) *storage.Error {
	if status >= 300 && status < 400 {
		// The client never follows a redirect (see New). Nothing from the answer
		// is used: not the Location, which may name any host, and not a body
		// code, which must not turn into NotFound or AlreadyExists that callers
		// absorb.
		return &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: status,
			Err: fmt.Errorf("the array answered with a redirect (HTTP %d), which is not followed: point the endpoint at the address it redirects to", status)}
	}
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not PowerStore's shape leaves eb empty
	e := &storage.Error{Vendor: Vendor, Op: op, Status: status}
	if len(eb.Messages) > 0 {
		e.Code = normCode(eb.Messages[0].Code)
		if m := c.red.Clean(eb.Messages[0].Message); m != "" {
			e.Err = errors.New("array says: " + m)
		}
	}
	e.Kind = classify(status, e.Code)
	return e
}

// normCode writes a hex code as 0x followed by upper-case digits.
func normCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return "0x" + strings.ToUpper(s[2:])
	}
	return strings.ToUpper(s)
}

func classify(status int, code string) storage.Kind {
	switch code {
	case codeUnknownVolume, codeNoHostForID, codeInvalidInstance, codeInstanceNotFound,
		codeHostNotAttached, codeVolumeNotAttached, codeNoHostVolumeMatch:
		return storage.KindNotFound
	case codeVolumeNameInUse, codeSnapshotNameInUse, codeInitiatorAlreadyHost:
		return storage.KindAlreadyExists
	}
	return storage.KindFromStatus(status)
}

func invalid(op string, format string, a ...any) *storage.Error {
	return &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindInvalid, Err: fmt.Errorf(format, a...)}
}

// listAll reads every page of a collection with Range/Content-Range.
func listAll[T any](ctx context.Context, c *Client, op, path string, q url.Values) ([]T, error) {
	var all []T
	offset := 0
	var budget storage.ListBudget
	for {
		var raw json.RawMessage
		r, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q,
			rng: strconv.Itoa(offset) + "-" + strconv.Itoa(offset+c.pageSize-1)}, &raw)
		if err != nil {
			var se *storage.Error
			// Objects deleted while paging can push the offset past the end.
			if offset > 0 && errors.As(err, &se) && (se.Status == http.StatusRequestedRangeNotSatisfiable || se.Code == codeBadRange) {
				return all, nil
			}
			return nil, err
		}
		if err := budget.Spend(len(raw)); err != nil {
			return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: r.status, Err: err}
		}
		var page []T
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &page); err != nil {
				return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: r.status,
					Err: fmt.Errorf("decode response: %w", err)}
			}
		}
		all = append(all, page...)
		if r.status != http.StatusPartialContent {
			return all, nil
		}
		_, last, total, ok := parseContentRange(r.header.Get("Content-Range"))
		if !ok {
			return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: r.status,
				Err: errors.New("partial response without a usable Content-Range header")}
		}
		if last+1 >= total {
			return all, nil
		}
		if last < offset {
			return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: r.status,
				Err: fmt.Errorf("pagination did not advance past item %d", offset)}
		}
		offset = last + 1
	}
}

// parseContentRange reads "first-last/total" (an optional unit word first).
func parseContentRange(s string) (first, last, total int, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		s = s[i+1:]
	}
	rng, tot, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err error
	if first, err = strconv.Atoi(a); err != nil {
		return 0, 0, 0, false
	}
	if last, err = strconv.Atoi(b); err != nil {
		return 0, 0, 0, false
	}
	if total, err = strconv.Atoi(tot); err != nil {
		return 0, 0, 0, false
	}
	return first, last, total, first >= 0 && last >= first && total >= 0
}
