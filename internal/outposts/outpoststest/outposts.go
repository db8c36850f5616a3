package outpoststest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/outposts"
)

// OutpostsServer is a FAKE of the AWS Outposts API (moto has none), on
// 127.0.0.1, for AWS_ENDPOINT_URL_OUTPOSTS. It serves the three REST-JSON
// calls setup makes, with the request rules of the API reference enforced so
// a client that breaks them fails here as it would on AWS:
//
//	GET /outposts                              ListOutposts
//	GET /outposts/{OutpostId}                  GetOutpost
//	GET /outposts/{OutpostId}/instanceTypes    GetOutpostInstanceTypes
//
// (paths and query names as the API reference pages API_ListOutposts,
// API_GetOutpost, API_GetOutpostInstanceTypes give them, and as
// aws-sdk-go-v2 service/outposts v1.74.12 sends them: its
// request_snapshot/*.request.snap; the package's own tests run the real SDK
// client against this fake, so a request the SDK sends and the fake refuses
// fails them). Enforced: SigV4 Authorization with the
// signing name "outposts"; MaxResults 1 to 1000; NextToken 1 to 2048
// characters matching ^(\d+)##(\S+)$ and issued by this server; OutpostId
// (ID or ARN) matching ^(arn:aws([a-z-]+)?:outposts:[a-z\d-]+:\d{12}:outpost/)?op-[a-f0-9]{17}$;
// no unknown query parameters. Errors use the REST-JSON shape
// (X-Amzn-ErrorType header, {"message"} body): ValidationException 400,
// NotFoundException 404, AccessDeniedException 403.
//
// PageSize caps every page (default 2), below what clients ask for, so
// pagination is always exercised. Not modelled: ListOutposts' filters
// (LifeCycleStatusFilter, AvailabilityZoneFilter, AvailabilityZoneIdFilter
// are accepted and ignored), shared Outposts of other accounts, and any call
// beyond these three.
type OutpostsServer struct {
	URL      string
	PageSize int

	mu      sync.Mutex
	list    []outposts.OutpostInfo
	types   map[string][]outposts.InstanceTypeItem
	denied  map[string]bool
	faults  []*fault
	latency time.Duration
	calls   []ProxyCall
	bad     []string
}

// NewOutpostsServer starts the fake; it stops when the test ends. Requests
// the fake refuses as malformed are also reported with t.Errorf at cleanup,
// since they mean the client is wrong.
func NewOutpostsServer(t testing.TB) *OutpostsServer {
	t.Helper()
	s := &OutpostsServer{PageSize: 2, types: map[string][]outposts.InstanceTypeItem{}, denied: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, b := range s.bad {
			t.Errorf("outposts fake refused a malformed request: %s", b)
		}
	})
	s.URL = srv.URL
	return s
}

// NewOutpostID returns a random Outpost ID (op- and 17 hex digits).
func NewOutpostID() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return "op-" + hex.EncodeToString(b)[:17]
}

// Outpost builds an Outpost record of the given hardware type.
func Outpost(name, region, account, hardware string) outposts.OutpostInfo {
	id := NewOutpostID()
	return outposts.OutpostInfo{OutpostId: id, OutpostArn: fmt.Sprintf("arn:aws:outposts:%s:%s:outpost/%s", region, account, id),
		OwnerId: account, SiteId: "os-0123456789abcdef0", Name: name, LifeCycleStatus: "ACTIVE",
		AvailabilityZone: region + "a", AvailabilityZoneId: "usw2-az1", SupportedHardwareType: hardware}
}

// Add registers an Outpost and the instance types it offers.
func (s *OutpostsServer) Add(o outposts.OutpostInfo, instanceTypes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, o)
	for _, it := range instanceTypes {
		v := int32(2)
		s.types[o.OutpostId] = append(s.types[o.OutpostId], outposts.InstanceTypeItem{InstanceType: it, VCPUs: &v})
	}
}

// Deny makes an operation ("ListOutposts", ...) answer AccessDeniedException.
func (s *OutpostsServer) Deny(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[op] = true
}

// InjectFault makes the next `times` calls of op ("" = any) answer the
// error code with the HTTP status.
func (s *OutpostsServer) InjectFault(op, code string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{action: op, code: code, status: status, left: times})
}

// Refused returns, and forgets, the malformed requests refused so far (a
// test that sends them on purpose drains them so cleanup does not fail).
func (s *OutpostsServer) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.bad
	s.bad = nil
	return out
}

// SetLatency delays every answer by d.
func (s *OutpostsServer) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Calls returns the calls served (Service "outposts").
func (s *OutpostsServer) Calls() []ProxyCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ProxyCall(nil), s.calls...)
}

var (
	outpostIDRE   = regexp.MustCompile(`^(arn:aws([a-z-]+)?:outposts:[a-z\d-]+:\d{12}:outpost/)?op-[a-f0-9]{17}$`)
	nextTokenRE   = regexp.MustCompile(`^(\d+)##(\S+)$`)
	sigV4OutpostR = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=[^/]+/[0-9]{8}/[a-z0-9-]+/outposts/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`)
)

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *OutpostsServer) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	op := "unknown"
	// Recorded as the status is written (see Proxy.serve); op is set below,
	// before anything is written.
	rec := &recorder{ResponseWriter: w, onHeader: func(status int) {
		s.mu.Lock()
		s.calls = append(s.calls, ProxyCall{Service: "outposts", Action: op, Start: start, Duration: time.Since(start), Status: status})
		s.mu.Unlock()
	}}
	defer rec.finish()
	s.mu.Lock()
	lat := s.latency
	s.mu.Unlock()
	if lat > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(lat):
		}
	}
	invalid := func(msg string) {
		s.mu.Lock()
		s.bad = append(s.bad, op+": "+msg)
		s.mu.Unlock()
		writeJSONError(rec, 400, "ValidationException", msg)
	}
	// Split the escaped path: an Outpost ARN travels with its "/" as %2F.
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	var outpostID string
	var allowed []string
	switch {
	case len(parts) == 1 && parts[0] == "outposts":
		op, allowed = "ListOutposts", []string{"MaxResults", "NextToken", "LifeCycleStatusFilter", "AvailabilityZoneFilter", "AvailabilityZoneIdFilter"}
	case len(parts) == 2 && parts[0] == "outposts":
		op, outpostID = "GetOutpost", parts[1]
	case len(parts) == 3 && parts[0] == "outposts" && parts[2] == "instanceTypes":
		op, outpostID, allowed = "GetOutpostInstanceTypes", parts[1], []string{"MaxResults", "NextToken"}
	default:
		writeJSONError(rec, 404, "UnknownOperationException", "no operation at "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet {
		writeJSONError(rec, 405, "UnknownOperationException", op+" is a GET")
		return
	}
	if !sigV4OutpostR.MatchString(r.Header.Get("Authorization")) || r.Header.Get("X-Amz-Date") == "" {
		s.mu.Lock()
		s.bad = append(s.bad, op+": not SigV4-signed for the outposts service: "+r.Header.Get("Authorization"))
		s.mu.Unlock()
		writeJSONError(rec, 403, "InvalidSignatureException", "request must be SigV4-signed for the service outposts")
		return
	}
	q := r.URL.Query()
	for k := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			invalid(fmt.Sprintf("unknown query parameter %q", k))
			return
		}
	}
	if outpostID != "" {
		if id, err := url.PathUnescape(outpostID); err == nil {
			outpostID = id
		}
		if len(outpostID) > 180 || !outpostIDRE.MatchString(outpostID) {
			invalid(fmt.Sprintf("OutpostId %q does not match the ID or ARN pattern", outpostID))
			return
		}
		outpostID = outpostID[strings.LastIndex(outpostID, "/")+1:]
	}
	max := 1000
	if v := q.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			invalid("MaxResults " + v + ": valid range 1 to 1000")
			return
		}
		max = n
	}
	offset := 0
	if v := q.Get("NextToken"); v != "" {
		m := nextTokenRE.FindStringSubmatch(v)
		if len(v) > 2048 || m == nil || m[2] != op+"."+outpostID {
			invalid("NextToken " + v + " was not issued for this call")
			return
		}
		offset, _ = strconv.Atoi(m[1])
	}
	if s.PageSize > 0 && max > s.PageSize {
		max = s.PageSize
	}
	status, code, msg, body := s.answer(op, outpostID, offset, max)
	if code != "" {
		writeJSONError(rec, status, code, msg)
		return
	}
	writeJSON(rec, body)
}

// answer computes one response under the lock; serve writes it after the
// lock is released (writing records the call, which takes the lock).
func (s *OutpostsServer) answer(op, outpostID string, offset, max int) (status int, code, msg string, body any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.left > 0 && (f.action == "" || f.action == op) {
			f.left--
			return f.status, f.code, "injected by the outpoststest fake", nil
		}
	}
	if s.denied[op] {
		return 403, "AccessDeniedException", "User is not authorized to perform: outposts:" + op, nil
	}
	next := func(n int) string {
		if offset+max < n {
			return fmt.Sprintf("%d##%s.%s", offset+max, op, outpostID)
		}
		return ""
	}
	page := func(n int) (int, int) {
		lo := min(offset, n)
		return lo, min(lo+max, n)
	}
	if op == "ListOutposts" {
		lo, hi := page(len(s.list))
		return 200, "", "", outposts.ListOutpostsPage{Outposts: append([]outposts.OutpostInfo{}, s.list[lo:hi]...), NextToken: next(len(s.list))}
	}
	var found *outposts.OutpostInfo
	for i := range s.list {
		if s.list[i].OutpostId == outpostID {
			c := s.list[i]
			found = &c
		}
	}
	if found == nil {
		return 404, "NotFoundException", "Outpost " + outpostID + " not found", nil
	}
	if op == "GetOutpost" {
		return 200, "", "", map[string]any{"Outpost": found}
	}
	all := s.types[outpostID]
	lo, hi := page(len(all))
	return 200, "", "", outposts.InstanceTypesPage{InstanceTypes: append([]outposts.InstanceTypeItem{}, all[lo:hi]...), NextToken: next(len(all)),
		OutpostId: found.OutpostId, OutpostArn: found.OutpostArn}
}
