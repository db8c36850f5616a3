package wizard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

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
			return c, errors.New("storage.management.credentials.prompt needs an interactive terminal: use secret_arn or env for unattended runs")
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

// CheckResult is one line of an array check.
type CheckResult struct {
	OK     bool
	What   string
	Detail string
}

// CheckArray is a read-only preflight of the array the answers describe: it
// logs in, finds the boot and data volumes, discovers the target and compares
// it with the answers, probes every portal over TCP, and logs out. It creates,
// maps and deletes nothing.
func CheckArray(ctx context.Context, arr storage.Array, s *spec.Spec, probeTimeout time.Duration) ([]CheckResult, error) {
	var res []CheckResult
	add := func(ok bool, what, detail string) { res = append(res, CheckResult{OK: ok, What: what, Detail: detail}) }
	if err := arr.Login(ctx); err != nil {
		add(false, "login", err.Error())
		return res, err
	}
	defer func() {
		if err := arr.Logout(context.WithoutCancel(ctx)); err != nil {
			add(false, "logout", err.Error())
		}
	}()
	add(true, "login", "")
	vols, err := arr.Volumes(ctx)
	if err != nil {
		add(false, "list volumes", err.Error())
		return res, err
	}
	if s.Storage.Vendor != "generic" {
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
				add(true, field, fmt.Sprintf("%s found (%d bytes)", got.Name, got.SizeBytes))
			} else {
				add(false, field, fmt.Sprintf("%s not found among %d volumes on the array", v.Volume, len(vols)))
			}
		}
	}
	t, err := arr.Target(ctx, storage.Protocol(s.Storage.Protocol))
	if err != nil {
		add(false, "target discovery", err.Error())
	} else {
		add(true, "target discovery", t.Name)
		if want := s.Storage.Boot.Target; want != "" && want != t.Name {
			add(false, "storage.boot.target", fmt.Sprintf("the answers say %s, the array serves %s", want, t.Name))
		}
		for _, e := range t.Endpoints {
			addr := net.JoinHostPort(e.Address, strconv.Itoa(e.Port))
			d := net.Dialer{Timeout: probeTimeout}
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				// Reported, never fatal: this machine may not sit on the SAN VLAN.
				add(false, "portal "+addr, "not reachable from here: "+err.Error())
				continue
			}
			conn.Close()
			add(true, "portal "+addr, "TCP reachable")
		}
	}
	add(true, "array host name", naming.ArrayHost(s.Workload)+" (created by setup; nothing was changed by this check)")
	failed := 0
	for _, r := range res {
		// An unreachable portal is reported, never fatal: this machine may not be on the SAN VLAN.
		if !r.OK && !strings.HasPrefix(r.What, "portal ") {
			failed++
		}
	}
	if failed > 0 {
		return res, fmt.Errorf("array check: %d check(s) failed; nothing was changed", failed)
	}
	return res, nil
}
