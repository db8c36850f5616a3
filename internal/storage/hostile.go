package storage

// What a hostile or broken array sends back must not leak a credential or
// forge output. This file is the one place every vendor client gets that
// from:
//
//   - Redactor knows every form of every credential a client holds (the
//     password or API token as typed, JSON- and URL-escaped, base64 of it and
//     of user:password as in an "Authorization: Basic" header, and each
//     session token the array issued) and removes them from text. Clients run
//     every error they return (Scrub), every log record (Logger) and every
//     array message they keep (Clean) through it.
//   - Strip and Printable remove terminal escapes, control, bidi and
//     zero-width characters from free-form array text; CheckName refuses an
//     array-supplied identifier that carries any of them, so a client drops
//     the object instead of printing or re-sending a forged name.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/outposts-ha/outposts-ha/sanboot"
)

// Redacted replaces a credential in text.
const Redacted = "[REDACTED]"

const (
	maxSessionSecrets = 64   // session tokens remembered per client (the newest)
	maxPrintable      = 300  // runes of array text kept by Printable and Clean
	maxErrorText      = 1000 // runes of an error's detail after Scrub
	// MaxNameLen bounds any array-supplied identifier (volume, host, port name).
	MaxNameLen = 512
)

// Redactor removes every form of a client's credentials from text. It is
// safe for concurrent use. The zero value redacts nothing.
type Redactor struct {
	mu       sync.RWMutex
	fixed    []string // forms of the configured credentials
	sessions []string // forms of session tokens, oldest first
	nSession int      // how many tokens sessions holds forms of
	perToken []int    // number of forms each remembered token added
}

// NewRedactor knows the forms of c.Secret, and of c.Username:c.Secret as
// base64 (the Basic auth header value). The username alone is not a secret.
func NewRedactor(c Credentials) *Redactor {
	r := &Redactor{}
	if c.Secret == "" {
		return r
	}
	r.fixed = forms(c.Secret)
	if c.Username != "" {
		r.fixed = append(r.fixed, base64Forms(c.Username+":"+c.Secret)...)
	}
	r.fixed = tidy(r.fixed)
	return r
}

// Add remembers a session token (or cookie, or key) the array issued, so
// that an echo of it is redacted too. Only the newest tokens are kept.
func (r *Redactor) Add(secret string) {
	if r == nil || secret == "" {
		return
	}
	f := forms(secret)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nSession == maxSessionSecrets {
		r.sessions = r.sessions[r.perToken[0]:]
		r.perToken = r.perToken[1:]
		r.nSession--
	}
	r.sessions = append(r.sessions, f...)
	r.perToken = append(r.perToken, len(f))
	r.nSession++
}

// forms are the ways a secret shows up when an array echoes it: as is,
// escaped inside JSON, escaped in a URL, and base64 with and without padding
// (the padded form first, so it goes whole).
func forms(s string) []string {
	if s == "" {
		return nil
	}
	out := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	if j, err := json.Marshal(s); err == nil {
		out = append(out, string(j[1:len(j)-1]))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		j := bytes.TrimSpace(b.Bytes())
		out = append(out, string(j[1:len(j)-1]))
	}
	return tidy(append(out, base64Forms(s)...))
}

func base64Forms(s string) []string {
	b := []byte(s)
	return []string{base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)}
}

// tidy drops empty and duplicate forms and puts the longest first, so a form
// that contains another is replaced whole.
func tidy(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func (r *Redactor) all() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return tidy(append(slices.Clone(r.fixed), r.sessions...))
}

// lowerASCII lowers ASCII letters only, so byte offsets stay the same.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Redact replaces every known form of every credential in s with Redacted.
// Matching ignores ASCII case: an array that upper-cases a message must not
// get a password through.
func (r *Redactor) Redact(s string) string {
	for _, f := range r.all() {
		s = replaceFold(s, f)
	}
	return s
}

func replaceFold(s, form string) string {
	lf := lowerASCII(form)
	var b strings.Builder
	for {
		i := strings.Index(lowerASCII(s), lf)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(Redacted)
		s = s[i+len(form):]
	}
}

// Contains reports whether s holds any form of a credential, also once
// escapes and invisible characters are stripped from it.
func (r *Redactor) Contains(s string) bool {
	ls, lstripped := lowerASCII(s), lowerASCII(Strip(s))
	for _, f := range r.all() {
		lf := lowerASCII(f)
		if strings.Contains(ls, lf) || strings.Contains(lstripped, lf) {
			return true
		}
	}
	return false
}

// Clean makes array text safe to show: credentials redacted, escapes and
// control characters removed, at most 300 runes. It redacts before and after
// stripping, so neither an escape sequence spliced into a secret nor a secret
// with odd characters gets through, and it never ends on the first part of a
// secret that the cut would otherwise leave.
func (r *Redactor) Clean(s string) string { return r.clean(s, maxPrintable) }

func (r *Redactor) clean(s string, limit int) string {
	s = r.Redact(Strip(r.Redact(s)))
	return r.cut(s, limit)
}

// cut bounds s to limit runes. When it cuts, it also drops a tail that is the
// start of a credential form, so a truncated echo leaks no prefix of it.
func (r *Redactor) cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	s = string([]rune(s)[:limit])
	ls := lowerASCII(s)
	for _, f := range r.all() {
		lf := lowerASCII(f)
		for n := min(len(lf)-1, len(ls)); n >= 4; n-- {
			if strings.HasSuffix(ls, lf[:n]) {
				s, ls = s[:len(s)-n], ls[:len(ls)-n]
				break
			}
		}
	}
	return strings.TrimSpace(s) + "..."
}

// Scrub returns err with every credential form redacted and control
// characters removed from its text. A *Error keeps its type, Kind, Status and
// errors.Is/As behaviour; its Err and Code are replaced by cleaned ones.
// Clients call it on every error they return.
func (r *Redactor) Scrub(err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		se.Code = r.clean(se.Code, 64)
		if se.Err != nil {
			se.Err = &cleanError{msg: r.clean(se.Err.Error(), maxErrorText), err: se.Err}
		}
		if err == error(se) {
			return se
		}
	}
	return &cleanError{msg: r.clean(err.Error(), maxErrorText), err: err}
}

// cleanError carries a redacted message and keeps the original for errors.Is
// and errors.As (context.Canceled, certificate errors). Whoever unwraps it
// and prints the inner error bypasses the redaction; the clients' own inner
// errors are already built from cleaned text.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// Strip removes terminal escape sequences, bidi and zero-width characters,
// and turns other control characters (C0, DEL, C1) and line separators into
// spaces. Invalid UTF-8 becomes U+FFFD. It does not cut.
func Strip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == 0x1b || r == 0x9b || r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f:
			i = skipEscape(rs, i)
		case r == '\t' || r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
		case unicode.IsControl(r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Cf, r):
			// bidi overrides and isolates, zero-width characters, BOM: dropped
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// skipEscape returns the index of the last rune of the escape sequence that
// starts at rs[i] (ESC or a C1 introducer).
func skipEscape(rs []rune, i int) int {
	intro := rs[i]
	j := i + 1
	if intro == 0x1b {
		if j >= len(rs) {
			return i
		}
		switch rs[j] {
		case '[':
			intro = 0x9b
		case ']':
			intro = 0x9d
		case 'P', 'X', '^', '_':
			intro = 0x90
		default:
			return j // ESC plus one character (ESC c, ESC 7, ...)
		}
		j++
	}
	switch intro {
	case 0x9b: // CSI: parameters and intermediates, then one final byte 0x40-0x7e
		for ; j < len(rs); j++ {
			if rs[j] >= 0x40 && rs[j] <= 0x7e {
				return j
			}
			if rs[j] < 0x20 || rs[j] > 0x7e {
				return j - 1 // not part of a CSI: handled on its own
			}
		}
		return len(rs) - 1
	default: // OSC, DCS, SOS, PM, APC: a string ended by BEL, ST (ESC \) or U+009C
		for ; j < len(rs); j++ {
			switch {
			case rs[j] == 0x07 || rs[j] == 0x9c:
				return j
			case rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\':
				return j + 1
			}
		}
		return len(rs) - 1
	}
}

// Printable keeps an array's message short and on one line, for an error
// string an operator reads: Strip, then at most 300 runes. It is shown, never
// used to classify. Clients that hold credentials use Redactor.Clean, which
// also redacts.
func Printable(s string) string {
	s = Strip(s)
	if utf8.RuneCountInString(s) > maxPrintable {
		s = string([]rune(s)[:maxPrintable]) + "..."
	}
	return s
}

// CheckName refuses an array-supplied identifier (volume, host, snapshot or
// port name, object id) that is empty, longer than max bytes (MaxNameLen when
// max <= 0), not UTF-8, or holds a control, format (bidi, zero-width) or line
// separator character. Such a name cannot be shown as it is, and a cleaned
// copy would name a different object on the array, so the client drops the
// object instead. The error quotes a short, stripped prefix.
func CheckName(s string, max int) error {
	if max <= 0 {
		max = MaxNameLen
	}
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > max:
		return fmt.Errorf("%q... is %d bytes, more than %d", prefix(s), len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%q is not UTF-8", prefix(s))
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
	}):
		return fmt.Errorf("%q holds control, escape or invisible characters", prefix(s))
	}
	return nil
}

func prefix(s string) string {
	s = Strip(s)
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40])
	}
	return s
}

// Name is CheckName plus a refusal of a name that carries a credential: an
// array that names an object after the password must not get it printed.
func (r *Redactor) Name(s string, max int) error {
	if err := CheckName(s, max); err != nil {
		return err
	}
	if r.Contains(s) {
		return errors.New("holds a credential")
	}
	return nil
}

// Logger returns l with every record's message and attributes run through
// Clean (credential forms redacted, escapes removed, values bounded).
func (r *Redactor) Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return slog.New(redactHandler{h: l.Handler(), r: r})
}

type redactHandler struct {
	h slog.Handler
	r *Redactor
}

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	n := slog.NewRecord(rec.Time, rec.Level, h.r.Clean(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		n.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, n)
}

func (h redactHandler) attr(a slog.Attr) slog.Attr {
	key := h.r.Clean(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(key, h.r.Clean(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = h.attr(x)
		}
		return slog.Attr{Key: key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		return slog.String(key, h.r.clean(fmt.Sprint(v.Any()), maxErrorText))
	default:
		return slog.Attr{Key: key, Value: v}
	}
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return redactHandler{h: h.h.WithAttrs(out), r: h.r}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h: h.h.WithGroup(h.r.Clean(name)), r: h.r}
}

// Bounds on one collection walk (all pages of one list call), whatever the
// array claims: a pager that never ends, or pages that never shrink, stop
// here with an error instead of running the client out of time or memory.
const (
	MaxListPages = 1000
	MaxListBytes = 64 << 20
)

// ListBudget counts the pages and bytes of one collection walk. The zero
// value is ready to use.
type ListBudget struct {
	pages int
	bytes int64
}

// Spend records one page of n bytes and fails once the walk goes over
// MaxListPages pages or MaxListBytes bytes.
func (b *ListBudget) Spend(n int) error {
	b.pages++
	b.bytes += int64(n)
	switch {
	case b.pages > MaxListPages:
		return fmt.Errorf("the array is still paging after %d pages: refusing to read more (a listing this long is not a real array's)", MaxListPages)
	case b.bytes > MaxListBytes:
		return fmt.Errorf("the array sent more than %d MiB for one listing: refusing to read more", MaxListBytes>>20)
	}
	return nil
}

// Volume refuses a listed volume whose name or id (when it has one) Name
// refuses.
func (r *Redactor) Volume(v Volume) error {
	if err := r.Name(v.Name, 0); err != nil {
		return fmt.Errorf("volume name %w", err)
	}
	if v.ID != "" {
		if err := r.Name(v.ID, 0); err != nil {
			return fmt.Errorf("volume id %w", err)
		}
	}
	return nil
}

// SafeVolumes drops the volumes Volume refuses, each with a warning on log.
// The operator cannot pick them; the array still has them.
func (r *Redactor) SafeVolumes(ctx context.Context, log *slog.Logger, vols []Volume) []Volume {
	return slices.DeleteFunc(vols, func(v Volume) bool {
		if err := r.Volume(v); err != nil {
			log.WarnContext(ctx, "leaving out a volume whose name or id cannot be shown safely", "error", err.Error())
			return true
		}
		return false
	})
}

// CleanAll runs Clean on each string (initiator lists read from an array).
func (r *Redactor) CleanAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.Clean(s)
	}
	return out
}

// TargetName checks an array-reported target name: an iSCSI name (iqn.,
// eui., naa.) or an NVMe subsystem NQN, by the same rules as the answers file
// (sanboot.ValidateIQN, sanboot.ValidateNQN). A name that fails is dropped by
// the client, never cleaned into another one.
func TargetName(p Protocol, s string) error {
	if p == NVMeTCP {
		return sanboot.ValidateNQN(s)
	}
	return sanboot.ValidateIQN(s)
}

// PortalAddr checks an array-reported portal address by the same rules as a
// portal in the answers file (sanboot.ParsePortal): an IP literal, no IPv6
// zone, unicast, not loopback. It returns the address in canonical form.
func PortalAddr(s string) (string, error) {
	if _, err := netip.ParseAddr(s); err != nil {
		return "", fmt.Errorf("portal address %s is not an IP address", sanboot.QuoteShort(Strip(s)))
	}
	p, err := sanboot.ParsePortal(s, 1)
	if err != nil {
		return "", err
	}
	return p.Addr.String(), nil
}

// NotGone is the error of an Unmap, DeleteHost or DeleteVolume the array
// refused (derr) when a re-read still finds the object, or could not tell
// (rerr != nil). A refusal coded "not found" becomes KindUnknown, because
// callers absorb NotFound as "already gone" and only the re-read may say
// that; other refusals are returned as they are.
func NotGone(derr, rerr error, what string) error {
	if KindOf(derr) != KindNotFound {
		return derr
	}
	var se *Error
	if errors.As(derr, &se) {
		se.Kind = KindUnknown
		why := fmt.Errorf("the array answered \"not found\" but still lists the %s", what)
		if rerr != nil {
			why = fmt.Errorf("the array answered \"not found\" and the %s could not be re-read to confirm it is gone: %w", what, rerr)
		}
		se.Err = errors.Join(why, se.Err)
	}
	return derr
}
