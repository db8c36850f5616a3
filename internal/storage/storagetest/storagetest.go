// Package storagetest holds helpers for the vendor contract tests: a TLS test
// server with its own private CA, and a scan that proves a secret never leaked.
// The servers it starts listen on 127.0.0.1 only.
package storagetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TLSServer starts an HTTPS server on loopback whose certificate is signed by
// a private CA, and writes that CA to a PEM file for TLSOptions.CAFile.
func TLSServer(t testing.TB, h http.Handler) (srv *httptest.Server, caFile string) {
	t.Helper()
	srv = httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "array-ca.pem")
	cert := srv.Certificate()
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatalf("write CA file: %v", err)
	}
	return srv, caFile
}

// NoSecret fails the test if secret appears in any of the texts (log output,
// error strings, rendered files).
func NoSecret(t testing.TB, secret string, texts ...string) {
	t.Helper()
	if secret == "" {
		t.Fatal("NoSecret needs a non-empty secret to look for")
	}
	for i, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("secret leaked into text %d: %q", i, s)
		}
	}
}

// SecretForms are the ways a credential can show up in text when an array
// echoes it: as is, in any ASCII case, and base64 (of the secret alone and of
// user:secret, the Basic auth value). Raw base64 forms are prefixes of the
// padded ones, so they match both.
func SecretForms(user, secret string) []string {
	out := []string{secret}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString([]byte(secret)))
		if user != "" {
			out = append(out, enc.EncodeToString([]byte(user+":"+secret)))
		}
	}
	if j, err := json.Marshal(secret); err == nil && string(j[1:len(j)-1]) != secret {
		out = append(out, string(j[1:len(j)-1]))
	}
	return out
}

// NoSecretForms fails the test if any form of secret (see SecretForms) is in
// any of the texts, comparing case-insensitively for the plain secret.
func NoSecretForms(t testing.TB, user, secret string, texts ...string) {
	t.Helper()
	if secret == "" {
		t.Fatal("NoSecretForms needs a non-empty secret to look for")
	}
	for _, f := range SecretForms(user, secret) {
		NoSecret(t, f, texts...)
	}
	for i, s := range texts {
		if strings.Contains(strings.ToLower(s), strings.ToLower(secret)) {
			t.Errorf("secret leaked (case changed) into text %d: %q", i, s)
		}
	}
}

// secretHeaders are the request headers that carry credentials in the
// vendor APIs (Basic auth, Pure api-token and x-auth-token, PowerStore
// DELL-EMC-TOKEN and auth_cookie, Alletra session key).
var secretHeaders = []string{"Authorization", "Api-Token", "X-Auth-Token", "Dell-Emc-Token", "Cookie", "X-Hp3par-Wsapi-Sessionkey"}

// Echo is what a hostile array sends back: every piece of secret material
// the request carried, in the forms an array could echo it in, joined by
// " | ". For each secret header: the header line as sent (so "Authorization:
// Basic base64(user:password)"), and the value upper-cased, in base64 and as
// a JSON field; the password (from Basic auth or a JSON login body) in plain,
// upper-cased and in base64, and the login body as JSON. Models put it in error messages and
// response headers; Forms counts its parts.
func Echo(r *http.Request, body []byte) string { return strings.Join(EchoParts(r, body), " | ") }

// EchoParts is Echo before joining.
func EchoParts(r *http.Request, body []byte) []string {
	var out []string
	password := func(pw string) {
		out = append(out, "pw="+pw, strings.ToUpper(pw), base64.StdEncoding.EncodeToString([]byte(pw)))
	}
	if u, pw, ok := r.BasicAuth(); ok {
		j, _ := json.Marshal(map[string]string{"user": u, "password": pw})
		password(pw)
		out = append(out, "login body "+string(j))
	}
	var login struct {
		Password string `json:"password"`
	}
	if json.Unmarshal(body, &login) == nil && login.Password != "" {
		password(login.Password)
		out = append(out, "body="+string(body))
	}
	for _, k := range secretHeaders {
		v := r.Header.Get(k)
		if v == "" {
			continue
		}
		if k == "Cookie" {
			if _, c, ok := strings.Cut(v, "="); ok {
				v = c
			}
		}
		j, _ := json.Marshal(map[string]string{"token": v})
		out = append(out, k+": "+r.Header.Get(k), strings.ToUpper(v), base64.StdEncoding.EncodeToString([]byte(v)), string(j))
	}
	return out
}

// EchoHeaders copies Echo into response headers an array could send (a
// client must not print or log them either).
func EchoHeaders(w http.ResponseWriter, echo string) {
	w.Header().Set("X-Echo", strings.NewReplacer("\r", " ", "\n", " ").Replace(echo))
	w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(echo, `"`, `'`)+`"`)
}

// ReadBody reads a request body (bounded) and puts it back for the handler.
func ReadBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// EchoErrors wraps w so that an answer with status 400 or above carries body
// (a vendor error document holding an Echo) instead of what the model wrote.
func EchoErrors(w http.ResponseWriter, body []byte) http.ResponseWriter {
	return &echoWriter{ResponseWriter: w, body: body}
}

type echoWriter struct {
	http.ResponseWriter
	body     []byte
	replaced bool
	done     bool
}

func (e *echoWriter) WriteHeader(code int) {
	e.replaced = code >= 400
	if e.replaced {
		e.Header().Del("Content-Length")
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *echoWriter) Write(b []byte) (int, error) {
	if !e.replaced {
		return e.ResponseWriter.Write(b)
	}
	if !e.done {
		e.done = true
		if _, err := e.ResponseWriter.Write(e.body); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
