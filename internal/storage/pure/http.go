package pure

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/storage"
)

const (
	maxBody = 16 << 20 // bytes read from any response; a listing is bounded by storage.ListBudget
)

// classify maps an HTTP status to a Kind. Pure REST 2.x has no error codes.
func classify(status int) storage.Kind {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return storage.KindAuth
	case status == http.StatusNotFound:
		return storage.KindNotFound
	case status == http.StatusConflict:
		return storage.KindAlreadyExists
	case status == http.StatusTooManyRequests, status >= 500:
		return storage.KindTransient
	case status >= 400:
		return storage.KindInvalid
	}
	return storage.KindUnknown
}

func (c *Client) fail(op string, kind storage.Kind, status int, err error) error {
	return &storage.Error{Vendor: vendor, Op: op, Kind: kind, Status: status, Err: err}
}

func (c *Client) invalid(op string, format string, a ...any) error {
	return c.fail(op, storage.KindInvalid, 0, fmt.Errorf(format, a...))
}

// clean makes vendor text safe to show: every form of the API token and of
// every session token redacted, escapes and control characters removed,
// length bounded (storage.Redactor.Clean).
func (c *Client) clean(s string) string { return c.red.Clean(s) }

type errorBody struct {
	Errors []struct {
		Context string `json:"context"`
		Message string `json:"message"`
	} `json:"errors"`
	Message string `json:"message"` // gateway-level 401/403/429 bodies
}

func (c *Client) apiError(op string, status int, data []byte) error {
	var body errorBody
	if json.Unmarshal(data, &body) != nil {
		body = errorBody{} // not JSON: the status still classifies it
	}
	var parts []string
	for _, e := range body.Errors {
		msg := c.clean(e.Message)
		if ctx := c.clean(e.Context); ctx != "" {
			msg = ctx + ": " + msg
		}
		if msg != "" {
			parts = append(parts, msg)
		}
	}
	if m := c.clean(body.Message); m != "" {
		parts = append(parts, m)
	}
	var detail error
	if len(parts) > 0 {
		detail = errors.New(strings.Join(parts, "; "))
	}
	if status >= 300 && status < 400 {
		detail = fmt.Errorf("the array answered with a redirect (HTTP %d), which is not followed: point Endpoint at the address it redirects to", status)
	}
	return c.fail(op, classify(status), status, detail)
}

func (c *Client) transportError(op string, err error) error {
	kind := storage.KindUnknown
	var ne net.Error
	var oe *net.OpError
	if (errors.As(err, &ne) && ne.Timeout()) || (errors.As(err, &oe) && oe.Op == "dial") {
		kind = storage.KindTransient
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) {
		kind = storage.KindUnknown
		err = fmt.Errorf("%w (the array's TLS certificate is not trusted: give its CA with --array-ca-file)", err)
	}
	return c.fail(op, kind, 0, err)
}

// send makes one request to path (which must stay under /api/) with the given
// auth headers. A 2xx body is decoded into out.
func (c *Client) send(ctx context.Context, op, method, path string, q url.Values, body, out any, auth http.Header) (int, http.Header, error) {
	u := c.base.ResolveReference(&url.URL{Path: path})
	if !strings.HasPrefix(u.Path, "/api/") {
		return 0, nil, c.invalid(op, "path %q leaves the array's /api", path)
	}
	u.RawQuery = q.Encode()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, c.invalid(op, "encode request: %v", err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return 0, nil, c.invalid(op, "%v", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range auth {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "request failed", "op", op, "method", method, "path", u.Path, "error", err)
		return 0, nil, c.transportError(op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.log.DebugContext(ctx, "request", "op", op, "method", method, "path", u.Path,
		"status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	if err != nil {
		return resp.StatusCode, resp.Header, c.transportError(op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, resp.Header, c.apiError(op, resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, resp.Header, c.fail(op, storage.KindUnknown, resp.StatusCode, fmt.Errorf("decode response: %w", err))
		}
	}
	return resp.StatusCode, resp.Header, nil
}

func authRefused(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// opLogin picks the REST version and opens a session.
func (c *Client) opLogin(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loginLocked(ctx)
}

func (c *Client) loginLocked(ctx context.Context) error {
	if c.version == "" {
		v, err := c.negotiate(ctx)
		if err != nil {
			return err
		}
		c.version = v
	}
	const op = "login"
	var resp struct {
		Items []struct {
			Username string `json:"username"`
		} `json:"items"`
	}
	status, hdr, err := c.send(ctx, op, http.MethodPost, "/api/"+c.version+"/login", nil, nil, &resp,
		http.Header{"api-token": {c.token}})
	if err != nil {
		if status == http.StatusBadRequest || authRefused(status) {
			var se *storage.Error
			if errors.As(err, &se) {
				se.Kind = storage.KindAuth // the token was refused
			}
		}
		return err
	}
	session := hdr.Get("x-auth-token")
	c.red.Add(session) // before anything could print it
	if session == "" {
		return c.fail(op, storage.KindAuth, status, errors.New("the array accepted the login but sent no x-auth-token"))
	}
	c.session = session
	user := ""
	if len(resp.Items) > 0 {
		user = resp.Items[0].Username
	}
	c.log.InfoContext(ctx, "session opened", "api_version", c.version, "user", user)
	return nil
}

// negotiate reads the versions the array offers (no authentication needed).
func (c *Client) negotiate(ctx context.Context) (string, error) {
	const op = "negotiate API version"
	var v struct {
		Version []string `json:"version"`
	}
	if _, _, err := c.send(ctx, op, http.MethodGet, "/api/api_version", nil, nil, &v, nil); err != nil {
		return "", err
	}
	best, bestMinor := "", -1
	for _, s := range v.Version {
		if !versionRE().MatchString(s) {
			continue // 1.x and anything unexpected
		}
		if c.pin != "" {
			if s == c.pin {
				return s, nil
			}
			continue
		}
		minor, err := strconv.Atoi(strings.TrimPrefix(s, "2."))
		if err == nil && minor > bestMinor {
			best, bestMinor = s, minor
		}
	}
	if c.pin != "" {
		return "", c.fail(op, storage.KindUnsupported, 0, fmt.Errorf("the array does not offer REST %s (it offers %s)", c.pin, c.offered(v.Version)))
	}
	if best == "" {
		return "", c.fail(op, storage.KindUnsupported, 0, fmt.Errorf("the array offers no REST 2.x version (it offers %s)", c.offered(v.Version)))
	}
	return best, nil
}

// offered shows the array's version list: each entry cleaned of escapes and
// credentials and at most 20 entries, the whole at most 300 runes.
func (c *Client) offered(vs []string) string {
	shown := make([]string, 0, min(len(vs), 20))
	for _, v := range vs[:min(len(vs), 20)] {
		shown = append(shown, strconv.Quote(c.clean(v)))
	}
	if len(vs) > 20 {
		shown = append(shown, fmt.Sprintf("and %d more", len(vs)-20))
	}
	if len(shown) == 0 {
		return "nothing"
	}
	return c.clean(strings.Join(shown, ", "))
}

// opLogout closes the session. Without one it does nothing; a session the array
// already dropped counts as closed.
func (c *Client) opLogout(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == "" {
		return nil
	}
	session := c.session
	c.session = ""
	status, _, err := c.send(ctx, "logout", http.MethodPost, "/api/"+c.version+"/logout", nil, nil, nil,
		http.Header{"x-auth-token": {session}})
	if err != nil && !authRefused(status) {
		return err
	}
	c.log.InfoContext(ctx, "session closed")
	return nil
}

// session returns the API version and session token, logging in first when
// there is no session yet.
func (c *Client) currentSession(ctx context.Context) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == "" {
		if err := c.loginLocked(ctx); err != nil {
			return "", "", err
		}
	}
	return c.version, c.session, nil
}

// renew logs in again unless another call already replaced the stale session.
func (c *Client) renew(ctx context.Context, stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != "" && c.session != stale {
		return c.session, nil
	}
	c.session = ""
	if err := c.loginLocked(ctx); err != nil {
		return "", err
	}
	return c.session, nil
}

// call makes one API request on the session. A 401 or 403 means the session
// expired or was revoked: it logs in again once and retries once.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body, out any) error {
	version, session, err := c.currentSession(ctx)
	if err != nil {
		return err
	}
	full := "/api/" + version + path
	status, _, err := c.send(ctx, op, method, full, q, body, out, http.Header{"x-auth-token": {session}})
	if err == nil || !authRefused(status) {
		return err
	}
	c.log.InfoContext(ctx, "session refused; logging in again once", "op", op, "status", status)
	fresh, lerr := c.renew(ctx, session)
	if lerr != nil {
		return lerr
	}
	status, _, err = c.send(ctx, op, method, full, q, body, out, http.Header{"x-auth-token": {fresh}})
	if err != nil && authRefused(status) {
		var se *storage.Error
		if errors.As(err, &se) {
			se.Err = fmt.Errorf("refused again right after a fresh login (the API token's user may lack the permission): %w", errOrEmpty(se.Err))
		}
	}
	return err
}

func errOrEmpty(err error) error {
	if err == nil {
		return errors.New("no detail")
	}
	return err
}

type page[T any] struct {
	Items              []T    `json:"items"`
	ContinuationToken  string `json:"continuation_token"`
	MoreItemsRemaining *bool  `json:"more_items_remaining"`
}

// listAll reads every page of a collection, following continuation_token.
func listAll[T any](ctx context.Context, c *Client, op, path string, q url.Values) ([]T, error) {
	query := url.Values{}
	for k, v := range q {
		query[k] = v
	}
	query.Set("limit", strconv.Itoa(c.pageSize))
	var out []T
	seen := map[string]bool{}
	var budget storage.ListBudget
	for {
		var raw json.RawMessage
		if err := c.call(ctx, op, http.MethodGet, path, query, nil, &raw); err != nil {
			return nil, err
		}
		if err := budget.Spend(len(raw)); err != nil {
			return nil, c.fail(op, storage.KindUnknown, 0, err)
		}
		var p page[T]
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, c.fail(op, storage.KindUnknown, 0, fmt.Errorf("decode response: %w", err))
			}
		}
		out = append(out, p.Items...)
		if p.ContinuationToken == "" || len(p.Items) == 0 || (p.MoreItemsRemaining != nil && !*p.MoreItemsRemaining) {
			return out, nil
		}
		if seen[p.ContinuationToken] {
			return nil, c.fail(op, storage.KindUnknown, 0, errors.New("pagination returned the same continuation token twice"))
		}
		seen[p.ContinuationToken] = true
		query.Set("continuation_token", p.ContinuationToken)
	}
}
