package alletra

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
const Vendor = "alletra"

const (
	apiPrefix     = "/api/v1"
	keyHeader     = "X-HP3PAR-WSAPI-SessionKey" // #nosec G101 -- a header name, not a credential
	credsPath     = "/credentials"
	maxBody       = 16 << 20
	logoutTimeout = 30 * time.Second
)

// WSAPI error codes this client recognises. 5, 16, 17, 19, 22, 23, 26, 73 and
// 77 are the codes python-3parclient's WSAPI mock server uses; 6 (invalid
// session key) and 29 (volume already exported) are the codes LXD's Alletra
// driver handles. None of them is needed for a safety decision: the client
// re-reads state for those.
const (
	codeInvalidUserPass   = 5
	codeInvalidSessionKey = 6
	codeExistentHost      = 16
	codeNonExistentHost   = 17
	codeNonExistentVLUN   = 19
	codeExistentVolume    = 22
	codeNonExistentVolume = 23
	codeExportedVLUN      = 26
	codeAlreadyExported   = 29
	codeExistentPath      = 73
	codeHostInSet         = 77
)

// Config configures a Client.
type Config struct {
	// Endpoint is the WSAPI address, https://host[:port] (3PAR classic often :8080).
	Endpoint    string
	Credentials storage.Credentials
	// HTTP comes from storage.NewHTTPClient (TLS verified by default, a private
	// CA through TLSOptions.CAFile). Nil means storage.NewHTTPClient with
	// default, verifying options.
	HTTP *http.Client
	// Log receives request and progress records; nil discards them. It never
	// receives credentials, session keys or auth headers.
	Log *slog.Logger
}

// Client talks to one WSAPI endpoint. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	creds storage.Credentials
	red   *storage.Redactor // every form of the password and of each session key
	http  *http.Client
	log   *slog.Logger

	loginMu  sync.Mutex // serialises logins and logout
	mu       sync.Mutex // guards key and lastHost
	key      string     // session key, a secret
	lastHost string     // host of the latest EnsureHost/Map, for NVMe subsystem discovery
}

var _ storage.Array = (*Client)(nil)

// New validates the configuration and builds a client. It does no I/O.
func New(c Config) (*Client, error) {
	base, err := parseEndpoint(c.Endpoint)
	if err != nil {
		return nil, err
	}
	if c.Credentials.Username == "" || c.Credentials.Secret == "" {
		return nil, errors.New("alletra: credentials need a username and a password")
	}
	hc := c.HTTP
	if hc == nil {
		hc, _, err = storage.NewHTTPClient(storage.TLSOptions{})
		if err != nil {
			return nil, fmt.Errorf("alletra: build HTTP client: %w", err)
		}
	}
	// A copy, so that refusing redirects leaves the caller's client as it was.
	// On a redirect Go forwards the X-HP3PAR-WSAPI-SessionKey header to any
	// host, and a 307/308 replays the login body with the password. A 3xx
	// becomes a storage.Error instead (see apiError).
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	red := storage.NewRedactor(c.Credentials)
	lg := red.Logger(c.Log)
	return &Client{base: base, creds: c.Credentials, red: red, http: &own, log: lg.With("vendor", Vendor, "array", base.Host)}, nil
}

// String names the array and never prints credentials or the session key.
func (c *Client) String() string { return "alletra.Client{" + c.base.Host + "}" }

// GoString is String, so that %#v cannot print the credentials either.
func (c *Client) GoString() string { return c.String() }

func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("alletra: endpoint is empty: give https://<management address>[:port]")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("alletra: endpoint %q is not a URL: %w", s, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("alletra: endpoint %q must use https", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("alletra: endpoint %q has no host", s)
	}
	if u.User != nil {
		return nil, errors.New("alletra: endpoint must not carry credentials; use Config.Credentials")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("alletra: endpoint %q must be https://host[:port] with no path", s)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

type call struct {
	op     string
	method string
	path   string // below /api/v1, starting with "/"
	query  url.Values
	body   any
}

// opLogin opens a WSAPI session. It is a no-op when one is already open.
func (c *Client) opLogin(ctx context.Context) error {
	_, err := c.ensureSession(ctx)
	return err
}

func (c *Client) currentKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key
}

func (c *Client) ensureSession(ctx context.Context) (string, error) {
	if k := c.currentKey(); k != "" {
		return k, nil
	}
	return c.relogin(ctx, "")
}

// relogin opens a new session unless another goroutine already replaced stale.
func (c *Client) relogin(ctx context.Context, stale string) (string, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if k := c.currentKey(); k != "" && k != stale {
		return k, nil
	}
	k, err := c.login(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.key = k
	c.mu.Unlock()
	return k, nil
}

func (c *Client) login(ctx context.Context) (string, error) {
	const op = "login"
	body := map[string]string{"user": c.creds.Username, "password": c.creds.Secret}
	req, err := c.newRequest(ctx, call{op: op, method: http.MethodPost, path: credsPath, body: body}, "")
	if err != nil {
		return "", err
	}
	resp, raw, err := c.send(req, op)
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		e := c.apiError(op, resp.StatusCode, raw)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || e.Code == strconv.Itoa(codeInvalidUserPass) {
			e.Kind = storage.KindAuth
		}
		return "", e
	}
	var out struct {
		Key string `json:"key"`
	}
	err = json.Unmarshal(raw, &out)
	c.red.Add(out.Key) // before anything could print it
	if err != nil || out.Key == "" {
		return "", &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindAuth, Status: resp.StatusCode,
			Err: errors.New("the credentials response carried no session key")}
	}
	c.log.Info("logged in to array", "user", c.creds.Username)
	return out.Key, nil
}

// opLogout deletes the WSAPI session. It runs even when ctx is already cancelled
// (a failed step must not leak one of the few sessions WSAPI allows), bounded
// by its own timeout. A session the array already dropped counts as closed.
func (c *Client) opLogout(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	key := c.key
	c.key = ""
	c.mu.Unlock()
	if key == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	const op = "logout"
	req, err := c.newRequest(ctx, call{op: op, method: http.MethodDelete, path: credsPath + "/" + url.PathEscape(key)}, key)
	if err != nil {
		return err
	}
	resp, raw, err := c.send(req, op)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		c.log.Info("logged out of array")
		return nil
	default:
		return c.apiError(op, resp.StatusCode, raw)
	}
}

// do runs one call in the current session. A 401/403 means the session key
// expired or was dropped: it logs in once more and repeats the call once.
func (c *Client) do(ctx context.Context, k call, out any) (http.Header, error) {
	key, err := c.ensureSession(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, k, key)
		if err != nil {
			return nil, err
		}
		resp, raw, err := c.send(req, k.op)
		if err != nil {
			return nil, err
		}
		if (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && attempt == 0 {
			c.log.Info("array session expired; logging in again", "op", k.op, "status", resp.StatusCode)
			if key, err = c.relogin(ctx, key); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			return resp.Header, c.apiError(k.op, resp.StatusCode, raw)
		}
		if out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return nil, &storage.Error{Vendor: Vendor, Op: k.op, Kind: storage.KindUnknown, Status: resp.StatusCode,
					Err: fmt.Errorf("decode response: %w", err)}
			}
		}
		return resp.Header, nil
	}
}

func (c *Client) newRequest(ctx context.Context, k call, key string) (*http.Request, error) {
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
		return nil, &storage.Error{Vendor: Vendor, Op: k.op, Kind: storage.KindInvalid, Err: errors.New("build request: invalid method or URL")}
	}
	req.Header.Set("Accept", "application/json")
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(keyHeader, key)
	}
	return req, nil
}

// logPath hides the session key that the logout path carries.
func logPath(p string) string {
	if strings.HasPrefix(p, apiPrefix+credsPath+"/") {
		return apiPrefix + credsPath + "/<session-key>"
	}
	return p
}

func (c *Client) send(req *http.Request, op string) (*http.Response, []byte, error) {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.Debug("array request failed", "op", op, "method", req.Method, "path", logPath(req.URL.Path))
		return nil, nil, transportError(op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, transportError(op, err)
	}
	c.log.Debug("array request", "op", op, "method", req.Method, "path", logPath(req.URL.Path),
		"status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	return resp, raw, nil
}

// transportError classifies a failure that got no HTTP answer. The URL is
// dropped from the text: the logout URL carries the session key.
func transportError(op string, err error) *storage.Error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
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

// errorBody is WSAPI's error document: {"code": N, "desc": "..."}.
type errorBody struct {
	Code json.RawMessage `json:"code"`
	Desc string          `json:"desc"`
}

func (c *Client) apiError(op string, status int, raw []byte) *storage.Error {
	if status >= 300 && status < 400 {
		// The client never follows a redirect (see New). Nothing from the answer
		// is used: not the Location, which may name any host, and not a body
		// code, which must not turn into NotFound or AlreadyExists that callers
		// absorb.
		return &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Status: status,
			Err: fmt.Errorf("the array answered with a redirect (HTTP %d), which is not followed: point the endpoint at the address it redirects to", status)}
	}
	var eb errorBody
	_ = json.Unmarshal(raw, &eb) // a body that is not WSAPI's shape leaves eb empty
	e := &storage.Error{Vendor: Vendor, Op: op, Status: status}
	code := -1
	if len(eb.Code) > 0 {
		if n, err := strconv.Atoi(string(eb.Code)); err == nil {
			code = n
			e.Code = strconv.Itoa(n)
		} else {
			var s string
			if json.Unmarshal(eb.Code, &s) == nil {
				e.Code = c.red.Clean(s)
			}
		}
	}
	if d := c.red.Clean(eb.Desc); d != "" {
		e.Err = errors.New("array says: " + d)
	}
	e.Kind = classify(status, code)
	return e
}

func classify(status, code int) storage.Kind {
	switch code {
	case codeInvalidUserPass, codeInvalidSessionKey:
		return storage.KindAuth
	case codeExistentHost, codeExistentVolume:
		return storage.KindAlreadyExists
	case codeNonExistentHost, codeNonExistentVLUN, codeNonExistentVolume:
		return storage.KindNotFound
	case codeExistentPath:
		// The initiator belongs to ANOTHER host: callers must not absorb this
		// as "already exists".
		return storage.KindInvalid
	case codeExportedVLUN, codeHostInSet:
		return storage.KindInvalid
	}
	return storage.KindFromStatus(status)
}

func invalid(op string, format string, a ...any) *storage.Error {
	return &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindInvalid, Err: fmt.Errorf(format, a...)}
}
