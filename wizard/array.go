package wizard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/alletra"
	"github.com/outposts-ha/outposts-ha/internal/storage/generic"
	"github.com/outposts-ha/outposts-ha/internal/storage/ontap"
	"github.com/outposts-ha/outposts-ha/internal/storage/powerstore"
	"github.com/outposts-ha/outposts-ha/internal/storage/pure"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// SecretGetter is the one Secrets Manager call credential resolution makes.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// CredentialSources are where array credentials may come from. Argv is not
// one of them.
type CredentialSources struct {
	Secrets SecretGetter                       // nil when no AWS config is loaded
	Getenv  func(string) string                // os.Getenv
	Prompt  func(label string) (string, error) // masked terminal prompt; nil when there is no terminal
}

// ResolveCredentials fetches the array password or API token from the place
// the answers name. A Secrets Manager secret holds either the bare value or a
// JSON object with "password" (or "api_token" / "token") and optionally
// "username". The value is never logged and never part of an error.
func ResolveCredentials(ctx context.Context, s *spec.Spec, src CredentialSources) (storage.Credentials, error) {
	m := s.Storage.Management
	if m == nil {
		return storage.Credentials{}, errors.New("storage.management is not set: the generic vendor needs no credentials")
	}
	c := storage.Credentials{Username: m.Username}
	ref := m.Credentials
	switch {
	case ref.SecretARN != "":
		if src.Secrets == nil {
			return c, errors.New("storage.management.credentials.secret_arn needs AWS credentials to read Secrets Manager")
		}
		out, err := src.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.SecretARN)})
		if err != nil {
			return c, fmt.Errorf("read array credentials from %s: %w", ref.SecretARN, err)
		}
		raw := strings.TrimSpace(aws.ToString(out.SecretString))
		if strings.HasPrefix(raw, "{") {
			var obj map[string]string
			if err := json.Unmarshal([]byte(raw), &obj); err != nil {
				return c, fmt.Errorf("secret %s is JSON but not an object of strings", ref.SecretARN)
			}
			for _, k := range []string{"password", "api_token", "token"} {
				if v := obj[k]; v != "" {
					c.Secret = v
					break
				}
			}
			if c.Username == "" {
				c.Username = obj["username"]
			}
		} else {
			c.Secret = raw
		}
		if c.Secret == "" {
			return c, fmt.Errorf("secret %s holds no password or api_token", ref.SecretARN)
		}
	case ref.Env != "":
		if src.Getenv == nil {
			return c, errors.New("no environment available")
		}
		if c.Secret = src.Getenv(ref.Env); c.Secret == "" {
			return c, fmt.Errorf("environment variable %s (storage.management.credentials.env) is empty or unset", ref.Env)
		}
	case ref.Prompt:
		if src.Prompt == nil {
			return c, ErrPromptNeedsTerminal
		}
		label := "Array password for " + m.Username
		if s.Storage.Vendor == "pure" {
			label = "FlashArray API token"
		}
		v, err := src.Prompt(label)
		if err != nil {
			return c, err
		}
		if c.Secret = v; c.Secret == "" {
			return c, errors.New("no array password given")
		}
	default:
		return c, errors.New("storage.management.credentials names no source")
	}
	return c, nil
}

// ErrPromptNeedsTerminal is returned for a prompt credential when stdin is
// not a terminal.
var ErrPromptNeedsTerminal = errors.New("storage.management.credentials.prompt asks for the array password in a terminal, " +
	"and stdin is not a terminal: for unattended runs set credentials.env to the name of an environment variable " +
	"that holds it, or credentials.secret_arn to an AWS Secrets Manager secret")

// OpenArray builds the vendor client the answers describe. It does no I/O.
// The warning is non-empty when TLS verification is off.
func OpenArray(s *spec.Spec, creds storage.Credentials, tlsOpts storage.TLSOptions, log *slog.Logger) (storage.Array, string, error) {
	proto := storage.Protocol(s.Storage.Protocol)
	if s.Storage.Vendor == "generic" {
		b := s.Storage.Boot
		def := uint16(sanboot.ISCSIPort)
		if proto == storage.NVMeTCP {
			def = sanboot.NVMeTCPPort
		}
		t := storage.Target{Name: b.Target, Protocol: proto}
		for _, ps := range b.Portals {
			p, err := sanboot.ParsePortal(ps, def)
			if err != nil {
				return nil, "", fmt.Errorf("storage.boot.portals: %w", err)
			}
			t.Endpoints = append(t.Endpoints, storage.Endpoint{Address: p.Addr.String(), Port: int(p.Port)})
		}
		c, err := generic.New(generic.Config{Target: t, LUN: lun(b)})
		return c, "", err
	}
	m := s.Storage.Management
	if tlsOpts.CAFile == "" {
		tlsOpts.CAFile = m.CAFile
	}
	hc, warning, err := storage.NewHTTPClient(tlsOpts)
	if err != nil {
		return nil, "", err
	}
	var arr storage.Array
	switch s.Storage.Vendor {
	case "ontap":
		arr, err = ontap.New(ontap.Config{Endpoint: m.Endpoint, Credentials: creds, SVM: m.SVM, Protocol: proto, HTTP: hc, Log: log})
	case "pure":
		arr, err = pure.New(pure.Config{Endpoint: m.Endpoint, Credentials: creds, HTTP: hc, Log: log})
	case "powerstore":
		arr, err = powerstore.New(powerstore.Config{Endpoint: m.Endpoint, Credentials: creds, HTTP: hc, Log: log})
	case "alletra":
		arr, err = alletra.New(alletra.Config{Endpoint: m.Endpoint, Credentials: creds, HTTP: hc, Log: log})
	default:
		err = fmt.Errorf("storage.vendor %q has no client", s.Storage.Vendor)
	}
	return arr, warning, err
}

// CheckStatus is the outcome of one array check line.
type CheckStatus string

const (
	CheckOK      CheckStatus = "ok"
	CheckFailed  CheckStatus = "FAIL"
	CheckSkipped CheckStatus = "skip" // not done, and the line says why
	CheckNote    CheckStatus = "note" // information, not a check
)

// CheckResult is one line of an array check. Every string in it is safe to
// print: array-supplied text is quoted, stripped of control characters and
// capped in length.
type CheckResult struct {
	Status CheckStatus
	What   string
	Detail string
	Fix    string // set for failures with a known remedy
}

// CheckReport is the outcome of CheckArray.
type CheckReport struct {
	Results []CheckResult
}

// Count returns how many lines have the status.
func (r CheckReport) Count(st CheckStatus) int {
	n := 0
	for _, x := range r.Results {
		if x.Status == st {
			n++
		}
	}
	return n
}

// Failed reports whether any check failed, portals included.
func (r CheckReport) Failed() bool { return r.Count(CheckFailed) > 0 }

// Verdict is the last line array check prints.
func (r CheckReport) Verdict() string {
	ok, failed, skipped := r.Count(CheckOK), r.Count(CheckFailed), r.Count(CheckSkipped)
	tail := "; nothing was changed on the array"
	extra := ""
	if skipped > 0 {
		extra = fmt.Sprintf(", %d skipped", skipped)
	}
	if failed > 0 {
		return fmt.Sprintf("verdict: FAILED: %d of %d checks failed%s%s", failed, ok+failed, extra, tail)
	}
	return fmt.Sprintf("verdict: OK: %d checks passed%s%s", ok, extra, tail)
}

// CheckOptions tune CheckArray. The zero value is usable.
type CheckOptions struct {
	// ProbeTimeout bounds each portal's TCP connect (default 3s).
	ProbeTimeout time.Duration
	// MaxConcurrentProbes caps the portal probes in flight (default 8).
	MaxConcurrentProbes int
	// MaxPortals caps how many portals are probed at all (default 32); the
	// rest are reported as skipped.
	MaxPortals int
	// Dial connects to a portal; nil uses net.Dialer. Tests inject a fake.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Endpoint names the management endpoint in login advice.
	Endpoint string
	// LogoutTimeout bounds the logout after a check that was not
	// interrupted (default 10s). An interrupted check does not log out.
	LogoutTimeout time.Duration
}

func (o *CheckOptions) defaults() {
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 3 * time.Second
	}
	if o.MaxConcurrentProbes <= 0 {
		o.MaxConcurrentProbes = 8
	}
	if o.MaxPortals <= 0 {
		o.MaxPortals = 32
	}
	if o.Dial == nil {
		var d net.Dialer
		o.Dial = d.DialContext
	}
	if o.LogoutTimeout <= 0 {
		o.LogoutTimeout = 10 * time.Second
	}
}

// skippedGeneric is what the generic vendor says for checks it cannot do.
const skippedGeneric = "skipped (generic: no array API)"

// CheckArray is a read-only preflight of the array the answers describe: it
// logs in, finds the boot and data volumes, discovers the target and compares
// it with the answers, probes every portal over TCP, and logs out. It creates,
// maps and deletes nothing, and never reports a check it did not do. The error
// is non-nil only when ctx was cancelled (an interrupt); a passed deadline is
// reported as failed checks.
func CheckArray(ctx context.Context, arr storage.Array, s *spec.Spec, o CheckOptions) (CheckReport, error) {
	o.defaults()
	var rep CheckReport
	add := func(st CheckStatus, what, detail, fix string) {
		rep.Results = append(rep.Results, CheckResult{Status: st, What: what, Detail: detail, Fix: fix})
	}
	proto := storage.Protocol(s.Storage.Protocol)
	def := uint16(sanboot.ISCSIPort)
	if proto == storage.NVMeTCP {
		def = sanboot.NVMeTCPPort
	}
	portals := answerPortals(s, def)

	if s.Storage.Vendor == "generic" {
		add(CheckSkipped, "login", skippedGeneric, "")
		add(CheckSkipped, "volumes", skippedGeneric, "")
		add(CheckSkipped, "target discovery", skippedGeneric+"; the answers give "+Quote(s.Storage.Boot.Target), "")
		probePortals(ctx, &rep, def, portals, nil, o)
		return finish(ctx, s, rep)
	}

	if err := arr.Login(ctx); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return rep, ctx.Err()
		}
		class, fix := ClassifyArrayError(err, o.Endpoint)
		add(CheckFailed, "login", class+": "+Clean(err.Error(), 300), fix)
		add(CheckSkipped, "volumes", "skipped (login failed)", "")
		add(CheckSkipped, "target discovery", "skipped (login failed)", "")
		if len(portals) == 0 {
			add(CheckSkipped, "portals", "skipped (login failed, and the answers list no portals)", "")
		}
		probePortals(ctx, &rep, def, portals, nil, o)
		return finish(ctx, s, rep)
	}
	add(CheckOK, "login", "", "")

	vols, err := arr.Volumes(ctx)
	if err != nil {
		class, fix := ClassifyArrayError(err, o.Endpoint)
		add(CheckFailed, "list volumes", class+": "+Clean(err.Error(), 300), fix)
	} else {
		byName := map[string]storage.Volume{}
		for _, v := range vols {
			byName[v.Name] = v
		}
		for i, v := range append([]spec.Volume{s.Storage.Boot}, s.Storage.Data...) {
			field := "storage.boot.volume"
			if i > 0 {
				field = fmt.Sprintf("storage.data[%d].volume", i-1)
			}
			if got, ok := byName[v.Volume]; ok {
				add(CheckOK, field, fmt.Sprintf("%s found (%d bytes)", Quote(got.Name), got.SizeBytes), "")
			} else {
				add(CheckFailed, field, fmt.Sprintf("%s not found among %d volumes on the array", Quote(v.Volume), len(vols)),
					"check the name in the answers against the array (names are case-sensitive), and that the API user sees it")
			}
		}
	}

	var discovered []storage.Endpoint
	t, err := arr.Target(ctx, proto)
	if err != nil {
		class, fix := ClassifyArrayError(err, o.Endpoint)
		add(CheckFailed, "target discovery", class+": "+Clean(err.Error(), 300), fix)
	} else {
		name := t.Name
		nameErr := sanboot.ValidateIQN(name)
		if proto == storage.NVMeTCP {
			nameErr = sanboot.ValidateNQN(name)
		}
		if nameErr != nil {
			add(CheckFailed, "target discovery", "the array reported "+Quote(name)+", which is not a valid target name",
				"check the array's target / subsystem configuration")
		} else {
			add(CheckOK, "target discovery", Quote(name), "")
			if want := s.Storage.Boot.Target; want != "" && want != name {
				add(CheckFailed, "storage.boot.target", fmt.Sprintf("the answers say %s, the array serves %s", Quote(want), Quote(name)),
					"put the target the array serves into storage.boot.target")
			}
		}
		discovered = t.Endpoints
	}
	probePortals(ctx, &rep, def, portals, discovered, o)

	if errors.Is(ctx.Err(), context.Canceled) {
		// Interrupted: stop at once. The array's session expires on its own.
		return rep, ctx.Err()
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.LogoutTimeout)
	defer cancel()
	if err := arr.Logout(lctx); err != nil {
		add(CheckFailed, "logout", Clean(err.Error(), 300), "the session expires on the array by itself; nothing else to do")
	}
	return finish(ctx, s, rep)
}

func finish(ctx context.Context, s *spec.Spec, rep CheckReport) (CheckReport, error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return rep, ctx.Err()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		rep.Results = append(rep.Results, CheckResult{Status: CheckFailed, What: "deadline",
			Detail: "the overall deadline (--timeout) passed before every check was done",
			Fix:    "raise --timeout if the array or the network is slow"})
	}
	rep.Results = append(rep.Results, CheckResult{Status: CheckNote, What: "array host name",
		Detail: naming.ArrayHost(s.Workload) + " (setup creates it; this check changes nothing)"})
	return rep, nil
}

// answerPortals lists the portals the answers give (boot, then data), each
// once, as parsed by the same rules as the answers file.
func answerPortals(s *spec.Spec, def uint16) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range append([]spec.Volume{s.Storage.Boot}, s.Storage.Data...) {
		for _, ps := range v.Portals {
			p, err := sanboot.ParsePortal(ps, def)
			if err != nil { // Validate refused it already; never dial it
				continue
			}
			if k := p.String(); !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// probePortals probes the answers' portals and the array's discovered
// endpoints concurrently, at most o.MaxConcurrentProbes at a time. An endpoint
// the array reports is dialled only when it passes the same validation as a
// portal in the answers file.
func probePortals(ctx context.Context, rep *CheckReport, def uint16, fromAnswers []string, discovered []storage.Endpoint, o CheckOptions) {
	type job struct{ addr string }
	var jobs []job
	seen := map[string]bool{}
	for _, a := range fromAnswers {
		if !seen[a] {
			seen[a] = true
			jobs = append(jobs, job{a})
		}
	}
	for _, e := range discovered {
		k, err := endpointPortal(e, def)
		if err != nil {
			rep.Results = append(rep.Results, CheckResult{Status: CheckFailed, What: "portal " + Quote(e.Address),
				Detail: "the array reported an address that is not a usable portal (" + err.Error() + "); not probed",
				Fix:    "a portal must be a unicast IP address and a port 1-65535; check the array's network interfaces"})
			continue
		}
		if !seen[k] {
			seen[k] = true
			jobs = append(jobs, job{k})
		}
	}
	if len(jobs) > o.MaxPortals {
		rep.Results = append(rep.Results, CheckResult{Status: CheckSkipped, What: "portals",
			Detail: fmt.Sprintf("%d more portals not probed (at most %d are)", len(jobs)-o.MaxPortals, o.MaxPortals)})
		jobs = jobs[:o.MaxPortals]
	}
	results := make([]CheckResult, len(jobs))
	sem := make(chan struct{}, o.MaxConcurrentProbes)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = CheckResult{Status: CheckSkipped, What: "portal " + j.addr, Detail: "not probed: " + stopReason(ctx)}
				return
			}
			defer func() { <-sem }()
			results[i] = probeOne(ctx, j.addr, o)
		}()
	}
	wg.Wait()
	rep.Results = append(rep.Results, results...)
}

// endpointPortal validates an endpoint the array reported with the rules
// for a portal in the answers file, and returns it as ip:port.
func endpointPortal(e storage.Endpoint, def uint16) (string, error) {
	a, err := netip.ParseAddr(e.Address)
	if err != nil {
		return "", errors.New("not an IP address")
	}
	port := def
	if e.Port != 0 {
		if e.Port < 1 || e.Port > 65535 {
			return "", fmt.Errorf("port %d is outside 1-65535", e.Port)
		}
		port = uint16(e.Port)
	}
	p, err := sanboot.ParsePortal(netip.AddrPortFrom(a, port).String(), def)
	if err != nil {
		return "", errors.New(strings.TrimPrefix(Clean(err.Error(), 120), "portal "))
	}
	return p.String(), nil
}

func stopReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the overall deadline (--timeout) passed"
	}
	return "interrupted"
}

func probeOne(ctx context.Context, addr string, o CheckOptions) CheckResult {
	what := "portal " + addr
	pctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
	defer cancel()
	conn, err := o.Dial(pctx, "tcp", addr)
	if err == nil {
		conn.Close()
		return CheckResult{Status: CheckOK, What: what, Detail: "TCP reachable"}
	}
	if ctx.Err() != nil {
		return CheckResult{Status: CheckSkipped, What: what, Detail: "not probed to the end: " + stopReason(ctx)}
	}
	class, _ := ClassifyArrayError(err, "")
	return CheckResult{Status: CheckFailed, What: what, Detail: "not reachable from here (" + class + "): " + Clean(err.Error(), 200),
		Fix: "run array check from a machine on the SAN network (the Outposts server's LNI subnet); from elsewhere this line only says the portal is not reachable from here"}
}

// ClassifyArrayError names the kind of an array or network failure (DNS,
// refused, TLS, auth, timeout, ...) and the fix for it. endpoint is the
// management endpoint the advice names; it may be empty.
func ClassifyArrayError(err error, endpoint string) (class, fix string) {
	where := "storage.management.endpoint"
	if endpoint != "" {
		where = Quote(endpoint) + " (storage.management.endpoint)"
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case storage.KindOf(err) == storage.KindAuth:
		return "auth", "the array refused the user or the password/token: check storage.management.username and the credential the answers name, and that the user has a role that may read volumes and targets"
	case errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci):
		return "TLS", "the array's certificate is not trusted: give its CA with --array-ca-file (or storage.management.ca_file); the certificate must name the host in " + where
	case errors.As(err, &rh):
		return "TLS", "the endpoint did not answer with TLS: check the scheme and port in " + where
	case errors.As(err, &alert):
		return "TLS", "the array refused the TLS handshake: check that it allows TLS 1.2 or later and the port in " + where
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return "DNS", "the host name in " + where + " does not resolve from here: fix the name, or give the management IP address"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", "nothing accepts connections at " + where + ": check the address and port, and that the array's HTTPS management API is enabled"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "unreachable", "there is no route from this machine to " + where + ": run from a machine on the management network, or fix the route"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "timeout", "no answer in time from " + where + ": check that this machine reaches the management address (firewall, VPN), or raise --timeout"
	}
	return "error", "see the message; run again with the array's own logs at hand"
}

// maxPrintable caps every array-supplied string array check prints.
const maxPrintable = 160

// Clean makes text safe to print on one line: control, format (bidi,
// zero-width) and other non-printable characters become spaces, runs of
// spaces collapse, invalid UTF-8 is replaced, and the result is capped at max
// runes.
func Clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.Is(unicode.Cf, r) {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		if n == max {
			b.WriteString("...")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// Quote is Clean with quotes around it, for names the array supplies.
func Quote(s string) string {
	return strconv.Quote(Clean(s, maxPrintable))
}
