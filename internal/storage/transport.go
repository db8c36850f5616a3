package storage

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Credentials are resolved by the wizard (from Secrets Manager, an environment
// variable or a masked prompt) and handed to a vendor client. They are never
// logged: String and GoString redact them.
type Credentials struct {
	Username string // empty for token-only APIs (Pure)
	Secret   string // password, or API token for Pure
}

func (c Credentials) String() string {
	return "Credentials{Username:" + c.Username + ", Secret:REDACTED}"
}
func (c Credentials) GoString() string { return c.String() }

// TLSOptions control how vendor clients verify the array's certificate.
type TLSOptions struct {
	// CAFile is a PEM bundle for arrays with a private CA (--array-ca-file). When
	// set, only these roots are trusted.
	CAFile string
	// Insecure skips verification. It needs an explicit flag and makes
	// NewHTTPClient return a warning the caller must print.
	Insecure bool
	// Timeout bounds each request; zero means 30s.
	Timeout time.Duration
}

// NewHTTPClient builds the HTTP client every vendor package uses. The returned
// warning is non-empty when verification is off.
func NewHTTPClient(o TLSOptions) (client *http.Client, warning string, err error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, "", fmt.Errorf("read array CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "", fmt.Errorf("array CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.Insecure {
		cfg.InsecureSkipVerify = true // the operator asked for it explicitly; we warn
		warning = "WARNING: TLS certificate verification of the array is OFF (--array-insecure). " +
			"Anyone on the path can read the array credentials. Use --array-ca-file instead."
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	tr.Proxy = nil // arrays sit on the management LAN; never send their credentials through a proxy
	return &http.Client{Transport: tr, Timeout: timeout}, warning, nil
}
