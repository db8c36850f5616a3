package storage

// Unit tests of the shared redactor and sanitizer, no fakes.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testUser = "oha-admin"
	testPass = `Pa"ss\w<o>rd&9%/+`
)

// echoes is what an array may send back holding the password.
func echoes(user, pass string) map[string]string {
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	jsonBody := fmt.Sprintf(`{"user":%q,"password":%s}`, user, jsonString(pass))
	return map[string]string{
		"plain":            "bad password " + pass + " for " + user,
		"upper case":       "BAD PASSWORD " + strings.ToUpper(pass),
		"basic header":     "request had Authorization: Basic " + basic,
		"basic url b64":    "token " + base64.URLEncoding.EncodeToString([]byte(user+":"+pass)),
		"json body":        "could not parse " + jsonBody,
		"secret b64 alone": "secret was " + base64.StdEncoding.EncodeToString([]byte(pass)),
		"escape spliced":   "pw " + pass[:4] + "\x1b[0m" + pass[4:] + " end",
		"bidi spliced":     "pw " + pass[:3] + "\u202e" + pass[3:],
	}
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := jsonEncoder(&b)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

func TestRedactorEveryForm(t *testing.T) {
	r := NewRedactor(Credentials{Username: testUser, Secret: testPass})
	for name, text := range echoes(testUser, testPass) {
		got := r.Clean(text)
		assert.NotContains(t, got, testPass, name)
		assert.NotContains(t, strings.ToLower(got), strings.ToLower(testPass), name)
		assert.NotContains(t, got, base64.RawStdEncoding.EncodeToString([]byte(testUser+":"+testPass)), name)
		assert.NotContains(t, got, base64.RawStdEncoding.EncodeToString([]byte(testPass)), name)
		assert.Contains(t, got, Redacted, name)
		assert.True(t, r.Contains(text), name)
	}
	assert.Equal(t, "user "+testUser+" refused", r.Clean("user "+testUser+" refused"), "the user name alone is not a secret")
}

func TestRedactorSessionTokens(t *testing.T) {
	r := NewRedactor(Credentials{Secret: "api-token-1234"})
	r.Add("session-abcdef")
	assert.Equal(t, "x-auth-token: "+Redacted, r.Clean("x-auth-token: session-abcdef"))
	assert.Equal(t, "api-token: "+Redacted, r.Clean("api-token: api-token-1234"))
	for i := range maxSessionSecrets + 5 {
		r.Add(fmt.Sprintf("tok-%03d-xyz", i))
	}
	assert.Equal(t, "k "+Redacted, r.Clean(fmt.Sprintf("k tok-%03d-xyz", maxSessionSecrets+4)), "newest token kept")
	assert.Equal(t, "k "+Redacted, r.Clean("k api-token-1234"), "configured secret never dropped")
	var zero *Redactor
	assert.Equal(t, "a b", zero.Clean("a\nb"), "a nil redactor still strips")
}

func TestCleanCutLeavesNoSecretPrefix(t *testing.T) {
	r := NewRedactor(Credentials{Secret: "correct-horse-battery-staple"})
	// The array cut its own echo: no whole secret to redact, and our cut at
	// 300 runes would end on "corre".
	text := strings.Repeat("x", maxPrintable-5) + "correct-horse-battery and more text"
	got := r.Clean(text)
	assert.NotContains(t, got, "correct-h", "the cut must not leave the start of the secret")
	assert.True(t, strings.HasSuffix(got, "..."))
	whole := strings.Repeat("y", maxPrintable-5) + "correct-horse-battery-staple"
	assert.NotContains(t, r.Clean(whole), "corr")
}

func TestStrip(t *testing.T) {
	for in, want := range map[string]string{
		" a\nb ":                    "a b",
		"iqn\x1b[2K\x1b[1A\rFORGED": "iqn FORGED",
		"x\x1b]0;title\x07y":        "xy",
		"x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\": "xlink",
		"a\u009b31mb":                   "ab",
		"left\u202eright\u200bzw\ufeff": "leftrightzw",
		"bad\xffutf8":                   "bad\uFFFDutf8",
		"tab\there\u2028line":           "tab here line",
		"esc at end\x1b":                "esc at end",
		"unterminated csi \x1b[12":      "unterminated csi",
		"csi broken \x1b[1\nX":          "csi broken  X",
	} {
		assert.Equal(t, want, Strip(in), "%q", in)
	}
}

func TestPrintable(t *testing.T) {
	assert.Equal(t, "a b", Printable(" a\nb "))
	long := Printable(strings.Repeat("x", 400))
	assert.Len(t, long, 303)
	multi := Printable(strings.Repeat("é", 400))
	assert.True(t, strings.HasSuffix(multi, "..."))
	assert.Equal(t, maxPrintable+3, len([]rune(multi)), "cut on runes, never inside one")
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"web01-boot", "/vol/vol1/lun0", "pod::vg/vol.1", strings.Repeat("a", MaxNameLen)} {
		assert.NoError(t, CheckName(ok, 0), ok)
	}
	for _, bad := range []string{"", "a\x1b[2Kb", "a\nb", "a\u202eb", "a\u200bb", "bad\xff", strings.Repeat("a", MaxNameLen+1), "a\u2028b", "a\x7fb", "a\u0085b"} {
		err := CheckName(bad, 0)
		require.Error(t, err, "%q", bad)
		assert.NotContains(t, err.Error(), "\x1b")
	}
	assert.Error(t, CheckName("abcd", 3))
	r := NewRedactor(Credentials{Secret: "s3cret-pw"})
	assert.Error(t, r.Name("vol-s3cret-pw", 0))
	assert.NoError(t, r.Name("vol-1", 0))
}

func TestScrubKeepsTheError(t *testing.T) {
	r := NewRedactor(Credentials{Username: "u", Secret: "hunter2hunter2"})
	inner := fmt.Errorf("array says: password hunter2hunter2 wrong \x1b[31m: %w", context.Canceled)
	err := r.Scrub(&Error{Vendor: "v", Op: "login", Kind: KindAuth, Status: 401, Code: "c\x1b[2Khunter2hunter2", Err: inner})
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, KindAuth, se.Kind)
	assert.Equal(t, 401, se.Status)
	assert.ErrorIs(t, err, ErrAuth)
	assert.ErrorIs(t, err, context.Canceled, "the chain survives")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, se.Err.Error(), "hunter2", "the detail on its own is clean too")
	assert.NotContains(t, se.Code, "hunter2")
	assert.NotContains(t, err.Error(), "\x1b")

	wrapped := r.Scrub(fmt.Errorf("step: %w", errors.New("hunter2hunter2 echoed")))
	assert.NotContains(t, wrapped.Error(), "hunter2")
	assert.Nil(t, r.Scrub(nil))
}

func TestErrorTextIsStripped(t *testing.T) {
	e := &Error{Vendor: "v", Op: "op", Kind: KindInvalid, Status: 400, Code: "1\x1b[2K", Err: errors.New("x\x1b]0;t\x07\ny")}
	assert.Equal(t, "v: op: request rejected (HTTP 400, code 1): x y", e.Error())
}

func TestLoggerRedacts(t *testing.T) {
	r := NewRedactor(Credentials{Username: "u", Secret: "topsecret99"})
	r.Add("sess-777")
	var buf bytes.Buffer
	l := r.Logger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l = l.With("pre", "topsecret99").WithGroup("g")
	l.Debug("echo topsecret99 \x1b[2K", "s", "sess-777", "err", errors.New("Basic "+base64.StdEncoding.EncodeToString([]byte("u:topsecret99"))),
		slog.Group("inner", "x", "TOPSECRET99"), "n", 5)
	out := buf.String()
	assert.NotContains(t, strings.ToLower(out), "topsecret99")
	assert.NotContains(t, out, "sess-777")
	assert.NotContains(t, out, base64.RawStdEncoding.EncodeToString([]byte("u:topsecret99")))
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, "n=5")
	assert.Equal(t, 5, strings.Count(out, Redacted), out)
}

func jsonEncoder(b *bytes.Buffer) *json.Encoder {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc
}

func TestListBudget(t *testing.T) {
	var b ListBudget
	for range MaxListPages {
		require.NoError(t, b.Spend(10))
	}
	assert.ErrorContains(t, b.Spend(10), "pages")
	var c ListBudget
	require.NoError(t, c.Spend(MaxListBytes))
	assert.ErrorContains(t, c.Spend(1), "MiB")
}

func TestRedactorEdges(t *testing.T) {
	assert.Equal(t, "pw x", NewRedactor(Credentials{Username: "u"}).Clean("pw x"), "no secret, nothing to redact")
	onlySecret := NewRedactor(Credentials{Secret: "tok-123456"})
	assert.Equal(t, Redacted, onlySecret.Clean(base64.StdEncoding.EncodeToString([]byte("tok-123456"))))
	assert.Equal(t, "dTp0b2stMTIzNDU2", onlySecret.Clean(base64.StdEncoding.EncodeToString([]byte("u:tok-123456"))),
		"with no user name, no user:secret form is invented")

	// A token that contains the secret is replaced whole, not as "[REDACTED]-more".
	r := NewRedactor(Credentials{Secret: "abcd1234"})
	r.Add("abcd1234-session-more")
	assert.Equal(t, "t="+Redacted, r.Clean("t=abcd1234-session-more"))
	r.Add("")
	var nilR *Redactor
	nilR.Add("x")
	assert.False(t, nilR.Contains("x"))

	// Forms of a secret with characters JSON and URLs escape.
	sp := NewRedactor(Credentials{Secret: "a b&c<d>/é"})
	for _, echo := range []string{`a b\u0026c\u003cd\u003e/é`, `a b&c<d>/é`, "a+b%26c%3Cd%3E%2F%C3%A9", "a%20b&c%3Cd%3E%2F%C3%A9"} {
		assert.Equal(t, "x "+Redacted+" y", sp.Clean("x "+echo+" y"), "%q", echo)
	}

	// Evicting the oldest session keeps exactly the newest ones.
	ev := NewRedactor(Credentials{Secret: "fixed-secret"})
	for i := range maxSessionSecrets + 1 {
		ev.Add(fmt.Sprintf("sess-%03d-token", i))
	}
	assert.Equal(t, "sess-000-token", ev.Clean("sess-000-token"), "the oldest was dropped")
	assert.Equal(t, Redacted, ev.Clean("sess-001-token"), "the next oldest is kept")
}

func TestCleanBoundaries(t *testing.T) {
	r := NewRedactor(Credentials{Secret: "zzzz-secret"})
	exact := strings.Repeat("a", maxPrintable)
	assert.Equal(t, exact, r.Clean(exact), "300 runes are not cut")
	assert.Equal(t, exact+"...", r.Clean(exact+"b"))
	// A tail of 3 characters of a secret is too short to mean anything and stays.
	three := strings.Repeat("a", maxPrintable-3) + "zzz" + "tail"
	assert.Equal(t, strings.Repeat("a", maxPrintable-3)+"zzz...", r.Clean(three))
	four := strings.Repeat("a", maxPrintable-4) + "zzzz" + "tail"
	assert.Equal(t, strings.Repeat("a", maxPrintable-4)+"...", r.Clean(four))
	long := strings.Repeat("é", maxErrorText+10)
	err := r.Scrub(&Error{Vendor: "v", Op: "o", Err: errors.New(long)})
	assert.Equal(t, maxErrorText+3, len([]rune(errors.Unwrap(err).Error())), "an error's detail keeps up to 1000 runes")
}

func TestStripEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"a\x1bcb":                "ab",  // ESC plus one character
		"a\x1bPdcs\x1b\\b":       "ab",  // DCS ended by ST
		"a\x1b_apc\u009cb":       "ab",  // APC ended by C1 ST
		"a\x1bXsos\x07b":         "ab",  // SOS ended by BEL
		"a\x1b^pm\x1b\\b":        "ab",  // PM
		"a\u009d8;;x\u009cb":     "ab",  // C1 OSC
		"a\u0090q\u009cb":        "ab",  // C1 DCS
		"a\u0098s\u009cb":        "ab",  // C1 SOS
		"a\u009ep\u009cb":        "ab",  // C1 PM
		"a\u009fa\u009cb":        "ab",  // C1 APC
		"a\x1b]0;unterminated":   "a",   // OSC to the end
		"a\x1b[?25lb":            "ab",  // private CSI
		"a\x1b[1;31;4mb":         "ab",  // SGR with parameters
		"a\x1b[ qb":              "ab",  // CSI with an intermediate
		"a\x1b[\x7fb":            "a b", // DEL breaks a CSI and is itself a control
		"\x00a\x01":              "a",
		"a\u0085b":               "a b", // NEL, a C1 control
		"a\u00adb":               "ab",  // soft hyphen (Cf)
		"a\u2066b\u2069":         "ab",  // bidi isolates
		"\u200d\u200c\u2060x":    "x",   // zero-width joiners, word joiner
		"a\x1b":                  "a",
		"ok text stays, 1-2 [x]": "ok text stays, 1-2 [x]",
	} {
		assert.Equal(t, want, Strip(in), "%q", in)
	}
}

func TestCheckNameLimits(t *testing.T) {
	assert.NoError(t, CheckName("abc", 3))
	assert.Error(t, CheckName("abcd", 3))
	assert.NoError(t, CheckName(strings.Repeat("a", MaxNameLen), -1), "max <= 0 means MaxNameLen")
	err := CheckName(strings.Repeat("x", 100)+"\x1b", 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"`+strings.Repeat("x", 40)+`"`, "the error quotes a 40-rune prefix")
	assert.NotContains(t, err.Error(), strings.Repeat("x", 41))
	r := NewRedactor(Credentials{Secret: "sekrit-99"})
	assert.NoError(t, r.Volume(Volume{Name: "v1"}), "no id is fine")
	assert.ErrorContains(t, r.Volume(Volume{Name: "v1", ID: "id-sekrit-99"}), "volume id")
	assert.ErrorContains(t, r.Volume(Volume{Name: "v\x1b1", ID: "id"}), "volume name")
	var logs bytes.Buffer
	kept := r.SafeVolumes(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)),
		[]Volume{{Name: "a"}, {Name: "sekrit-99"}, {Name: "b\x07"}, {Name: "c", ID: "3"}})
	assert.Equal(t, []Volume{{Name: "a"}, {Name: "c", ID: "3"}}, kept)
	assert.Equal(t, 2, strings.Count(logs.String(), "leaving out a volume"))
	assert.NotContains(t, logs.String(), "sekrit")
	assert.Nil(t, r.CleanAll(nil))
	assert.Equal(t, []string{"a b", Redacted}, r.CleanAll([]string{"a\nb", "sekrit-99"}))
}

func TestTargetAndPortal(t *testing.T) {
	assert.NoError(t, TargetName(ISCSI, "iqn.1992-08.com.netapp:sn.1"))
	assert.Error(t, TargetName(ISCSI, "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"))
	assert.NoError(t, TargetName(NVMeTCP, "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"))
	assert.Error(t, TargetName(NVMeTCP, "iqn.1992-08.com.netapp:sn.1"))
	for in, want := range map[string]string{"192.168.1.10": "192.168.1.10", "fd00::0:1": "fd00::1"} {
		got, err := PortalAddr(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"", "host.example", "192.168.1.10:3260", "fe80::1%eth0", "0.0.0.0", "127.0.0.1", "255.255.255.255", "::ffff:10.0.0.1", "224.0.0.1", "1.2.3.4\x1b[2K"} {
		_, err := PortalAddr(bad)
		require.Error(t, err, "%q", bad)
		assert.NotContains(t, err.Error(), "\x1b")
	}
}

func TestLoggerKeepsLevelsAndGroups(t *testing.T) {
	r := NewRedactor(Credentials{Secret: "hush-hush-1"})
	var buf bytes.Buffer
	l := r.Logger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	assert.False(t, l.Enabled(context.Background(), slog.LevelDebug))
	l.Debug("hidden hush-hush-1")
	assert.Empty(t, buf.String())
	l.WithGroup("g\x1b[1m").Info("m", slog.Group("in", "k", "hush-hush-1"), "t", time.Duration(5), "b", true)
	out := buf.String()
	assert.Contains(t, out, `"g":{"in":{"k":"[REDACTED]"},"t":5,"b":true}`)
	assert.NotContains(t, out, "hush")
	nl := r.Logger(nil)
	nl.Info("discarded")
}

func TestNotGone(t *testing.T) {
	nf := func() error {
		return &Error{Vendor: "v", Op: "delete host", Kind: KindNotFound, Status: 404, Err: errors.New("no such host")}
	}
	err := NotGone(nf(), nil, "host")
	assert.NotErrorIs(t, err, ErrNotFound, "callers must not absorb it as gone")
	assert.Equal(t, KindUnknown, KindOf(err))
	assert.ErrorContains(t, err, `the array answered "not found" but still lists the host`)
	assert.ErrorContains(t, err, "no such host")
	err = NotGone(nf(), errors.New("GET failed"), "host")
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "could not be re-read to confirm it is gone: GET failed")
	inv := &Error{Vendor: "v", Op: "o", Kind: KindInvalid, Err: errors.New("has maps")}
	assert.Same(t, inv, NotGone(inv, nil, "host"))
	assert.Equal(t, KindInvalid, inv.Kind)
	plain := errors.New("plain")
	assert.Equal(t, plain, NotGone(plain, nil, "x"))
}
