// Package storagetest holds helpers for the vendor contract tests: a TLS test
// server with its own private CA, and a scan that proves a secret never leaked.
// The servers it starts listen on 127.0.0.1 only.
package storagetest

import (
	"encoding/pem"
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
