// Package outpoststest holds test-tier stand-ins for what moto lacks: a FAKE
// of the AWS Outposts API (OutpostsServer) and a thin REVERSE PROXY in front
// of moto (Proxy) that adds Outpost subnets, the LNI attribute and a few EC2
// behaviours to moto's answers, and injects latency and faults. Neither is
// AWS: each says in its doc comment which AWS behaviour it models and from
// which page. Both listen on 127.0.0.1 only.
package outpoststest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy is a TEST-TIER REVERSE PROXY, not AWS and not moto: it forwards every
// request to moto (upstream) and changes only what moto cannot do:
//
//   - Outpost subnets. moto 5 has no OutpostArn and no EnableLniAtDeviceIndex
//     on subnets (it drops CreateSubnet's OutpostArn, and its
//     ModifySubnetAttribute silently ignores EnableLniAtDeviceIndex). The
//     proxy remembers the OutpostArn given to CreateSubnet (or set with
//     SetOutpostSubnet) and the LNI index, adds <outpostArn> and
//     <enableLniAtDeviceIndex> to DescribeSubnets answers, and answers
//     ModifySubnetAttribute EnableLniAtDeviceIndex / DisableLniAtDeviceIndex
//     itself (EC2 API reference, ModifySubnetAttribute: "1 indicates local
//     network interfaces in this subnet are the secondary network interface
//     (eth1). A local network interface cannot be the primary network
//     interface (eth0)"; one attribute per call).
//   - RunInstances idempotency. moto ignores ClientToken; EC2 returns the
//     first answer again for a repeated token ("Ensuring idempotency",
//     https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
//     The proxy replays the first answer, and answers DescribeInstances'
//     client-token filter (which moto does not implement) from what it saw.
//   - Boot results moto cannot produce: SetConsoleOutput replaces moto's
//     canned console text for an instance; ImpairInstance makes
//     DescribeInstanceStatus report its instance check impaired.
//   - Latency and faults, per service and action, for benchmarks and
//     fault-injection tests.
type Proxy struct {
	URL      string
	upstream *url.URL
	client   *http.Client

	mu       sync.Mutex
	subnets  map[string]*subnetExtra
	tokens   map[string]runRecord
	console  map[string]string
	impaired map[string]bool
	latency  func(service, action string) time.Duration
	faults   []*fault
	calls    []ProxyCall
	seq      int
}

type subnetExtra struct {
	outpostARN string
	lni        *int32
}

type runRecord struct {
	body []byte
	ids  []string
}

type fault struct {
	service, action, code string
	status, left          int
}

// ProxyCall is one request the proxy saw.
type ProxyCall struct {
	Service, Action string
	Start           time.Time
	Duration        time.Duration // including injected latency
	Status          int
}

// NewProxy starts the proxy on 127.0.0.1 in front of upstream (moto's URL);
// it stops when the test ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		t.Fatalf("outpoststest.NewProxy: upstream %q is not a URL", upstream)
	}
	p := &Proxy{upstream: u, client: &http.Client{Timeout: 60 * time.Second},
		subnets: map[string]*subnetExtra{}, tokens: map[string]runRecord{}, console: map[string]string{}, impaired: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SetOutpostSubnet marks a moto subnet as a subnet of the Outpost outpostARN,
// with the LNI at lni (nil: no LNI).
func (p *Proxy) SetOutpostSubnet(subnetID, outpostARN string, lni *int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.subnets[subnetID] = &subnetExtra{outpostARN: outpostARN, lni: lni}
}

// LNI is the LNI index the proxy holds for a subnet (nil: none).
func (p *Proxy) LNI(subnetID string) *int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.subnets[subnetID]; s != nil && s.lni != nil {
		v := *s.lni
		return &v
	}
	return nil
}

// SetLatency delays every call by d (0: none).
func (p *Proxy) SetLatency(d time.Duration) {
	p.SetLatencyFunc(func(string, string) time.Duration { return d })
}

// SetLatencyFunc delays each call by f(service, action).
func (p *Proxy) SetLatencyFunc(f func(service, action string) time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = f
}

// InjectFault makes the next `times` calls of service/action (signing names
// and API action names, e.g. "ec2", "DescribeSubnets"; "" matches any) fail
// with the AWS error code and HTTP status, in the service's protocol.
func (p *Proxy) InjectFault(service, action, code string, status, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &fault{service: service, action: action, code: code, status: status, left: times})
}

// SetConsoleOutput makes GetConsoleOutput return text for the instance.
func (p *Proxy) SetConsoleOutput(instanceID, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.console[instanceID] = text
}

// ImpairInstance makes DescribeInstanceStatus report the instance status
// check of instanceID as impaired.
func (p *Proxy) ImpairInstance(instanceID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.impaired[instanceID] = true
}

// Calls returns the calls seen so far.
func (p *Proxy) Calls() []ProxyCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxyCall(nil), p.calls...)
}

// ResetCalls forgets the calls seen so far.
func (p *Proxy) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

var credScopeRE = regexp.MustCompile(`Credential=[^/,]+/[0-9]{8}/([^/,]+)/([^/,]+)/aws4_request`)

// Identify returns the signing service and the action of a request:
// the query protocols' Action parameter, the JSON protocols' X-Amz-Target,
// or the RPCv2 CBOR path's operation.
func identify(r *http.Request, form url.Values) (service, action string) {
	if m := credScopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[2]
	}
	switch {
	case form.Get("Action") != "":
		action = form.Get("Action")
	case r.Header.Get("X-Amz-Target") != "":
		t := r.Header.Get("X-Amz-Target")
		action = t[strings.LastIndex(t, ".")+1:]
	case strings.Contains(r.URL.Path, "/operation/"):
		action = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	default:
		action = r.Method + " " + r.URL.Path
	}
	return service, action
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, "proxy: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var form url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ = url.ParseQuery(string(body))
	}
	if form == nil {
		form = url.Values{}
	}
	service, action := identify(r, form)
	// The call is recorded when its status is written, before any byte
	// reaches the client, so a test that reads Calls() after its SDK call
	// returned always sees it.
	record := func(status int) {
		p.mu.Lock()
		p.calls = append(p.calls, ProxyCall{Service: service, Action: action, Start: start, Duration: time.Since(start), Status: status})
		p.mu.Unlock()
	}
	rec := &recorder{ResponseWriter: w, onHeader: record}
	defer rec.finish()

	p.mu.Lock()
	lat := time.Duration(0)
	if p.latency != nil {
		lat = p.latency(service, action)
	}
	var hit *fault
	for _, f := range p.faults {
		if f.left > 0 && (f.service == "" || f.service == service) && (f.action == "" || f.action == action) {
			f.left--
			hit = f
			break
		}
	}
	p.mu.Unlock()
	if lat > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(lat):
		}
	}
	if hit != nil {
		writeError(rec, r, service, hit.status, hit.code, "injected by the outpoststest proxy")
		return
	}
	if service == "ec2" {
		if p.ec2(rec, r, form, body, action) {
			return
		}
	}
	status, hdr, out, err := p.forward(r.Context(), r, body)
	if err != nil {
		http.Error(rec, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	writeRaw(rec, status, hdr, out)
}

// recorder reports the status of a response once, as it is written.
type recorder struct {
	http.ResponseWriter
	onHeader func(status int)
	status   int
	written  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.written {
		r.written, r.status = true, code
		if r.onHeader != nil {
			r.onHeader(code)
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.written {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// finish records a request that ended without an answer (client gone) as
// status 0.
func (r *recorder) finish() {
	if !r.written && r.onHeader != nil {
		r.written = true
		r.onHeader(0)
	}
}

var hopHeaders = map[string]bool{"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true, "Accept-Encoding": true}

func (p *Proxy) forward(ctx context.Context, r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u := *p.upstream
	u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range r.Header {
		if !hopHeaders[k] {
			req.Header[k] = vs
		}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out, err
}

func writeRaw(w http.ResponseWriter, status int, hdr http.Header, body []byte) {
	for k, vs := range hdr {
		if !hopHeaders[k] {
			w.Header()[k] = vs
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (p *Proxy) requestID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	return fmt.Sprintf("outpoststest-%08d", p.seq)
}

// writeError answers an AWS error in the protocol of the service.
func writeError(w http.ResponseWriter, r *http.Request, service string, status int, code, msg string) {
	id := "outpoststest-fault"
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
	case service == "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			html.EscapeString(code), html.EscapeString(msg), id)
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			html.EscapeString(code), html.EscapeString(msg), id)
	}
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func writeXML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, body)
}

// ec2 handles the EC2 actions the proxy changes; false: forward unchanged.
func (p *Proxy) ec2(w http.ResponseWriter, r *http.Request, form url.Values, body []byte, action string) bool {
	switch action {
	case "CreateSubnet":
		arn := form.Get("OutpostArn")
		if arn == "" {
			return false
		}
		status, hdr, out, err := p.forward(r.Context(), r, body)
		if err != nil {
			http.Error(w, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
			return true
		}
		if status == 200 {
			if m := subnetIDRE.FindSubmatch(out); m != nil {
				p.SetOutpostSubnet(string(m[1]), arn, nil)
				out = p.injectSubnets(out)
			}
		}
		writeRaw(w, status, hdr, out)
		return true
	case "DescribeSubnets":
		status, hdr, out, err := p.forward(r.Context(), r, body)
		if err != nil {
			http.Error(w, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
			return true
		}
		if status == 200 {
			out = p.injectSubnets(out)
		}
		writeRaw(w, status, hdr, out)
		return true
	case "ModifySubnetAttribute":
		return p.modifySubnet(w, r, form)
	case "RunInstances":
		tok := form.Get("ClientToken")
		if tok == "" {
			return false
		}
		p.mu.Lock()
		prev, seen := p.tokens[tok]
		p.mu.Unlock()
		if seen {
			writeXML(w, string(prev.body))
			return true
		}
		status, hdr, out, err := p.forward(r.Context(), r, body)
		if err != nil {
			http.Error(w, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
			return true
		}
		if status == 200 {
			var ids []string
			for _, m := range instanceIDRE.FindAllSubmatch(out, -1) {
				ids = append(ids, string(m[1]))
			}
			p.mu.Lock()
			p.tokens[tok] = runRecord{body: out, ids: uniq(ids)}
			p.mu.Unlock()
		}
		writeRaw(w, status, hdr, out)
		return true
	case "DescribeInstances":
		return p.describeByToken(w, r, form)
	case "GetConsoleOutput":
		id := form.Get("InstanceId")
		p.mu.Lock()
		text, ok := p.console[id]
		p.mu.Unlock()
		if !ok {
			return false
		}
		writeXML(w, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><GetConsoleOutputResponse xmlns="%s"><requestId>%s</requestId><instanceId>%s</instanceId><timestamp>%s</timestamp><output>%s</output></GetConsoleOutputResponse>`,
			ec2NS, p.requestID(), html.EscapeString(id), time.Now().UTC().Format(time.RFC3339), base64.StdEncoding.EncodeToString([]byte(text))))
		return true
	case "DescribeInstanceStatus":
		id := form.Get("InstanceId.1")
		p.mu.Lock()
		bad := p.impaired[id]
		p.mu.Unlock()
		if !bad || form.Get("InstanceId.2") != "" {
			return false
		}
		writeXML(w, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><DescribeInstanceStatusResponse xmlns="%s"><requestId>%s</requestId><instanceStatusSet><item><instanceId>%s</instanceId><instanceState><code>16</code><name>running</name></instanceState><systemStatus><status>ok</status></systemStatus><instanceStatus><status>impaired</status><details><item><name>reachability</name><status>failed</status></item></details></instanceStatus></item></instanceStatusSet></DescribeInstanceStatusResponse>`,
			ec2NS, p.requestID(), html.EscapeString(id)))
		return true
	}
	return false
}

var (
	subnetIDRE   = regexp.MustCompile(`<subnetId>(subnet-[0-9a-f]+)</subnetId>`)
	instanceIDRE = regexp.MustCompile(`<instanceId>(i-[0-9a-f]+)</instanceId>`)
)

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// injectSubnets adds <outpostArn> and <enableLniAtDeviceIndex> after the
// <subnetId> of every known Outpost subnet (element order does not matter to
// EC2 clients).
func (p *Proxy) injectSubnets(out []byte) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return subnetIDRE.ReplaceAllFunc(out, func(m []byte) []byte {
		id := string(subnetIDRE.FindSubmatch(m)[1])
		s := p.subnets[id]
		if s == nil {
			return m
		}
		add := string(m) + "<outpostArn>" + html.EscapeString(s.outpostARN) + "</outpostArn>"
		if s.lni != nil {
			add += "<enableLniAtDeviceIndex>" + strconv.Itoa(int(*s.lni)) + "</enableLniAtDeviceIndex>"
		}
		return []byte(add)
	})
}

func (p *Proxy) modifySubnet(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	enable, disable := form.Get("EnableLniAtDeviceIndex"), form.Get("DisableLniAtDeviceIndex.Value")
	if enable == "" && disable == "" {
		return false
	}
	attrs := 0
	for k := range form {
		if k != "Action" && k != "Version" && k != "SubnetId" && k != "DryRun" {
			attrs++
		}
	}
	if attrs != 1 {
		writeError(w, r, "ec2", 400, "InvalidParameterCombination", "ModifySubnetAttribute changes one attribute per call")
		return true
	}
	id := form.Get("SubnetId")
	// The subnet must exist in moto: ask it.
	q := url.Values{"Action": {"DescribeSubnets"}, "Version": {"2016-11-15"}, "SubnetId.1": {id}}
	probe, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, r.URL.String(), nil)
	probe.Header = r.Header.Clone()
	status, hdr, out, err := p.forward(r.Context(), probe, []byte(q.Encode()))
	if err != nil {
		http.Error(w, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
		return true
	}
	if status != 200 {
		writeRaw(w, status, hdr, out)
		return true
	}
	p.mu.Lock()
	s := p.subnets[id]
	p.mu.Unlock()
	if s == nil {
		writeError(w, r, "ec2", 400, "InvalidParameterValue", fmt.Sprintf("subnet %s is not on an Outpost; a local network interface needs an Outpost subnet", id))
		return true
	}
	if enable != "" {
		n, err := strconv.Atoi(enable)
		if err != nil || n < 1 {
			writeError(w, r, "ec2", 400, "InvalidParameterValue", "EnableLniAtDeviceIndex must be 1 or more: a local network interface cannot be the primary network interface (eth0)")
			return true
		}
		v := int32(n)
		p.mu.Lock()
		s.lni = &v
		p.mu.Unlock()
	} else if disable == "true" {
		p.mu.Lock()
		s.lni = nil
		p.mu.Unlock()
	}
	writeXML(w, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><ModifySubnetAttributeResponse xmlns="%s"><requestId>%s</requestId><return>true</return></ModifySubnetAttributeResponse>`, ec2NS, p.requestID()))
	return true
}

// describeByToken answers DescribeInstances' client-token filter, which moto
// does not implement, by turning it into an instance-id filter over the
// instances the proxy saw launched with that token.
func (p *Proxy) describeByToken(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	var nameKey string
	for k, v := range form {
		if strings.HasPrefix(k, "Filter.") && strings.HasSuffix(k, ".Name") && len(v) == 1 && v[0] == "client-token" {
			nameKey = k
		}
	}
	if nameKey == "" {
		return false
	}
	prefix := strings.TrimSuffix(nameKey, "Name")
	var ids []string
	p.mu.Lock()
	for k, v := range form {
		if strings.HasPrefix(k, prefix+"Value.") {
			for _, tok := range v {
				ids = append(ids, p.tokens[tok].ids...)
			}
			delete(form, k)
		}
	}
	p.mu.Unlock()
	if len(ids) == 0 {
		writeXML(w, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="%s"><requestId>%s</requestId><reservationSet/></DescribeInstancesResponse>`, ec2NS, p.requestID()))
		return true
	}
	form.Set(nameKey, "instance-id")
	for i, id := range uniq(ids) {
		form.Set(fmt.Sprintf("%sValue.%d", prefix, i+1), id)
	}
	status, hdr, out, err := p.forward(r.Context(), r, []byte(form.Encode()))
	if err != nil {
		http.Error(w, "proxy: upstream: "+err.Error(), http.StatusBadGateway)
		return true
	}
	writeRaw(w, status, hdr, out)
	return true
}
