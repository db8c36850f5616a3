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
