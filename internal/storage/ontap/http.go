package ontap

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

// ONTAP error codes the client acts on. ONTAP sends them as strings in
// {"error": {"code": ..., "message": ..., "target": ...}}.
const (
	codeDuplicateLUNMap = "1254207"  // LUN already mapped to this igroup
	codeDuplicateIQN    = "5374035"  // initiator already in the igroup
	codeDuplicateNQN    = "72089705" // host NQN already in the subsystem
	codeEntryNotFound   = "4"        // generic "entry doesn't exist"
	codeIgroupNotFound  = "5374852"  // igroup not found (lun-map lookups)
	codeLUNNotFound     = "5374875"  // LUN does not exist or is not accessible
	codeIgroupMissing   = "5374878"  // igroup does not exist / not in the LUN's SVM
	codeLUNMapNotFound  = "5374922"  // LUN map does not exist
)

const (
	maxBody = 16 << 20 // bytes read from any response; a listing is bounded by storage.ListBudget
)

// classify turns an HTTP status and ONTAP error code into a Kind. Codes win
// over statuses; message text is never looked at.
func classify(status int, code string) storage.Kind {
	switch code {
	case codeDuplicateLUNMap, codeDuplicateIQN, codeDuplicateNQN:
		return storage.KindAlreadyExists
	case codeEntryNotFound, codeIgroupNotFound, codeLUNNotFound, codeIgroupMissing, codeLUNMapNotFound:
		return storage.KindNotFound
	}
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

type apiErrorBody struct {
	Error struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Target  string          `json:"target"`
	} `json:"error"`
}

// rawCode renders an ONTAP code given either as "1254207" or as 1254207.
func rawCode(r json.RawMessage) string {
	s := strings.TrimSpace(string(r))
	if s == "" || s == "null" {
		return ""
	}
	if uq, err := strconv.Unquote(s); err == nil {
		return uq
	}
	return s
}

func (c *Client) fail(op string, kind storage.Kind, status int, code string, err error) error {
	return &storage.Error{Vendor: vendor, Op: op, Kind: kind, Status: status, Code: code, Err: err}
}

// clean makes vendor text safe to show: every form of the password (plain,
// JSON-escaped, base64 of user:password as in the Basic header an array may
// echo) redacted, escapes and control characters removed, length bounded
// (storage.Redactor.Clean).
func (c *Client) clean(s string) string { return c.red.Clean(s) }

func (c *Client) apiError(op string, status int, data []byte) error {
	var body apiErrorBody
	if json.Unmarshal(data, &body) != nil {
		body = apiErrorBody{} // not JSON (a proxy page, say): the status still classifies it
	}
	code := c.clean(rawCode(body.Error.Code))
	var detail error
	if msg := c.clean(body.Error.Message); msg != "" {
		if t := c.clean(body.Error.Target); t != "" {
			msg = t + ": " + msg
		}
		detail = errors.New(msg)
	}
	if status >= 300 && status < 400 {
		// Never classify a redirect by its body: a "not found" code in it would
		// read as "already done" to callers that absorb not-found.
		detail = fmt.Errorf("the array answered with a redirect (HTTP %d), which is not followed: point Endpoint at the address it redirects to", status)
		return c.fail(op, storage.KindUnknown, status, "", detail)
	}
	return c.fail(op, classify(status, code), status, code, detail)
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
	return c.fail(op, kind, 0, "", err)
}

// resolve turns an API path, or a HAL link the array sent, into a URL on the
// configured endpoint. Anything that would leave the array's /api is refused,
// so the Basic credentials go nowhere else.
func (c *Client) resolve(ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil || r.Scheme != "" || r.Host != "" || r.User != nil || r.Opaque != "" {
		return nil, fmt.Errorf("refusing link %q: it does not stay on the array's /api", ref)
	}
	u := c.base.ResolveReference(r)
	if !strings.HasPrefix(u.Path, "/api/") {
		return nil, fmt.Errorf("refusing link %q: it does not stay on the array's /api", ref)
	}
	return u, nil
}

// send makes one request. ref is an /api path (optionally with a query, as in
// HAL next links); q is merged into its query. A 2xx body is decoded into out.
func (c *Client) send(ctx context.Context, op, method, ref string, q url.Values, body, out any) (int, error) {
	u, err := c.resolve(ref)
	if err != nil {
		return 0, c.fail(op, storage.KindInvalid, 0, "", err)
	}
	if len(q) > 0 {
		merged := u.Query()
		for k, v := range q {
			merged[k] = v
		}
		u.RawQuery = merged.Encode()
	}
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, c.fail(op, storage.KindInvalid, 0, "", fmt.Errorf("encode request: %w", err))
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return 0, c.fail(op, storage.KindInvalid, 0, "", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(c.creds.Username, c.creds.Secret)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "request failed", "op", op, "method", method, "path", u.Path, "error", err)
		return 0, c.transportError(op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.log.DebugContext(ctx, "request", "op", op, "method", method, "path", u.Path,
		"status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	if err != nil {
		return resp.StatusCode, c.transportError(op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, c.apiError(op, resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, c.fail(op, storage.KindUnknown, resp.StatusCode, "", fmt.Errorf("decode response: %w", err))
		}
	}
	return resp.StatusCode, nil
}

type page[T any] struct {
	Records []T `json:"records"`
	Links   struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

// listAll reads every page of a collection, following _links.next.
func listAll[T any](ctx context.Context, c *Client, op, path string, q url.Values) ([]T, error) {
	query := url.Values{}
	for k, v := range q {
		query[k] = v
	}
	query.Set("max_records", strconv.Itoa(c.pageSize))
	var out []T
	ref := path
	seen := map[string]bool{}
	var budget storage.ListBudget
	for {
		var raw json.RawMessage
		if _, err := c.send(ctx, op, http.MethodGet, ref, query, nil, &raw); err != nil {
			return nil, err
		}
		if err := budget.Spend(len(raw)); err != nil {
			return nil, c.fail(op, storage.KindUnknown, 0, "", err)
		}
		var p page[T]
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("decode response: %w", err))
			}
		}
		out = append(out, p.Records...)
		if p.Links.Next == nil || p.Links.Next.Href == "" {
			return out, nil
		}
		next := p.Links.Next.Href
		if seen[next] {
			return nil, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("pagination loops on %q", c.clean(next)))
		}
		seen[next] = true
		ref, query = next, nil // a next link carries the whole query
	}
}

type jobRef struct {
	Job *struct {
		UUID string `json:"uuid"`
	} `json:"job"`
}

type jobRecord struct {
	State   string          `json:"state"`
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
}

// mutate sends a POST, PATCH or DELETE. When ONTAP answers 202 with a job, it
// waits for the job (bounded by JobTimeout and ctx) before returning. The
// answer's body is not used otherwise: callers re-read what they changed.
func (c *Client) mutate(ctx context.Context, op, method, path string, q url.Values, body any) error {
	var raw json.RawMessage
	status, err := c.send(ctx, op, method, path, q, body, &raw)
	if err != nil {
		return err
	}
	if status == http.StatusAccepted {
		var j jobRef
		if json.Unmarshal(raw, &j) == nil && j.Job != nil && j.Job.UUID != "" {
			return c.waitJob(ctx, op, j.Job.UUID)
		}
	}
	return nil
}

func (c *Client) waitJob(ctx context.Context, op, id string) error {
	if !idRE().MatchString(id) {
		return c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("array returned job id %q", c.clean(id)))
	}
	deadline := time.Now().Add(c.jobTimeout)
	for {
		var j jobRecord
		if _, err := c.send(ctx, op, http.MethodGet, "/api/cluster/jobs/"+id,
			url.Values{"fields": {"state,code,message"}}, nil, &j); err != nil {
			return err
		}
		switch j.State {
		case "success":
			return nil
		case "failure":
			code := c.clean(rawCode(j.Code))
			return c.fail(op, classify(0, code), 0, code,
				fmt.Errorf("job %s failed with code %s: %s", id, code, c.clean(j.Message)))
		}
		if time.Now().After(deadline) {
			return c.fail(op, storage.KindTransient, 0, "",
				fmt.Errorf("job %s still %q after %v; check it on the array before retrying", id, c.clean(j.State), c.jobTimeout))
		}
		t := time.NewTimer(c.jobPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("waiting for job %s: %w", id, ctx.Err()))
		case <-t.C:
		}
	}
}
