package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/logging"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// Defaults of array check.
const (
	defaultCheckTimeout = 2 * time.Minute
	defaultProbeTimeout = 3 * time.Second
	maxConcurrentProbes = 8
)

// dialPortal connects to a portal; nil means net.Dialer. Tests set it to
// reach loopback listeners in place of the SAN addresses the answers must
// name (answers refuse loopback portals).
var dialPortal func(ctx context.Context, network, addr string) (net.Conn, error)

// arrayFlags are the TLS and AWS flags every command that talks to the array shares.
type arrayFlags struct {
	caFile       string
	insecure     bool
	profile      string
	probeTimeout time.Duration
	timeout      time.Duration
}

func (f *arrayFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.caFile, "array-ca-file", "", "PEM bundle of the array's private CA (overrides storage.management.ca_file)")
	cmd.Flags().BoolVar(&f.insecure, "array-insecure", false, "skip TLS verification of the array (prints a warning; prefer --array-ca-file)")
	cmd.Flags().StringVar(&f.profile, "profile", "", "AWS profile, to read a Secrets Manager credential (default: AWS_PROFILE or the default chain)")
	cmd.Flags().DurationVar(&f.probeTimeout, "probe-timeout", defaultProbeTimeout, "TCP connect timeout per portal")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultCheckTimeout, "overall deadline of the check (Secrets Manager, array API, portal probes); a password prompt does not count")
}

func newArrayCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "array",
		Short: "Read-only checks against the storage array",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	var f arrayFlags
	check := &cobra.Command{
		Use:   "check ANSWERS.yaml",
		Short: "Log in, find the volumes, discover the target, probe the portals; changes nothing",
		Long: `array check is a read-only preflight of the array an answers file describes. It logs
in with the credential the answers name (Secrets Manager, environment variable or
masked prompt; never a flag), finds the boot and data volumes, discovers the
target and compares it with the answers, probes every portal over TCP (at most
8 at a time, only addresses that pass the answers file's portal rules), and logs
out. TLS is verified; use --array-ca-file for a private CA. The generic vendor
has no array API: its login and discovery lines say "skipped".

Every line is ok, FAIL or skip, and the last line is the verdict. A failed
login is classified (DNS, refused, TLS, auth, timeout) with its fix, and the
portals in the answers are still probed. --timeout bounds the whole check;
the first Ctrl-C stops it at once.

Exit codes: 0 every check passed; 1 a check failed (portals included) or the
check could not run; 2 bad usage or bad answers; 130 interrupted.`,
		Args: argsBetween(1, 1, "one answers file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runArrayCheck(cmd.Context(), args[0], f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(check)
	cmd.AddCommand(check)
	return cmd
}

func runArrayCheck(ctx context.Context, path string, f arrayFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	if f.timeout <= 0 {
		return usageError{errors.New("--timeout must be positive")}
	}
	if f.probeTimeout <= 0 {
		return usageError{errors.New("--probe-timeout must be positive")}
	}
	data, err := readAnswersFile(path)
	if err != nil {
		return err
	}
	s, err := spec.Parse(data)
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}

	// The deadline covers everything but a password prompt: it starts after
	// the prompt when there is one, else now.
	var cancel context.CancelFunc = func() {}
	defer func() { cancel() }()
	deadlineStarted := false
	startDeadline := func() {
		if !deadlineStarted {
			deadlineStarted = true
			ctx, cancel = context.WithTimeout(ctx, f.timeout)
		}
	}

	var creds storage.Credentials
	if m := s.Storage.Management; m != nil {
		src := wizard.CredentialSources{Getenv: os.Getenv}
		if !m.Credentials.Prompt {
			startDeadline()
		}
		if m.Credentials.SecretARN != "" {
			sm, err := secretsClient(ctx, f.profile, s.Region)
			if err != nil {
				return err
			}
			src.Secrets = sm
		}
		if isTerminal(stdin) {
			src.Prompt = func(label string) (string, error) { return promptSecret(ctx, label, stdin.(*os.File), stderr) }
		}
		creds, err = wizard.ResolveCredentials(ctx, s, src)
		if err != nil {
			return credentialError(ctx, err, s)
		}
	}
	startDeadline()

	// Vendor clients log request lines at debug level only; the default here is warnings.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	arr, warning, err := wizard.OpenArray(s, creds, storage.TLSOptions{CAFile: f.caFile, Insecure: f.insecure}, log)
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(stderr, warning)
	}
	opts := wizard.CheckOptions{ProbeTimeout: f.probeTimeout, MaxConcurrentProbes: maxConcurrentProbes, Dial: dialPortal}
	if s.Storage.Management != nil {
		opts.Endpoint = s.Storage.Management.Endpoint
	}
	rep, err := wizard.CheckArray(ctx, arr, s, opts)
	p := printer{w: stdout, redact: storage.NewRedactor(creds)}
	for _, r := range rep.Results {
		p.result(r)
	}
	if err != nil {
		return err // interrupted: exitCode says so
	}
	p.line(rep.Verdict())
	if rep.Failed() {
		return reportedError{code: exitError, msg: rep.Verdict()}
	}
	return nil
}

// printer writes array check lines. Every string is cleaned once more here
// (control characters, length) and every form of the credential is redacted,
// whatever the vendor client did.
type printer struct {
	w      io.Writer
	redact *storage.Redactor
}

func (p printer) clean(s string) string {
	return wizard.Clean(p.redact.Redact(s), 600)
}

func (p printer) line(s string) { fmt.Fprintln(p.w, p.clean(s)) }

func (p printer) result(r wizard.CheckResult) {
	fmt.Fprintln(p.w, strings.TrimRight(fmt.Sprintf("%-4s %-28s %s", r.Status, p.clean(r.What), p.clean(r.Detail)), " "))
	if r.Fix != "" {
		fmt.Fprintf(p.w, "     fix: %s\n", p.clean(r.Fix))
	}
}

// secretsClient loads the AWS configuration for one Secrets Manager read. The
// SDK's own logger is off (no IMDS warnings); a missing credential is told in
// one line with the fix.
func secretsClient(ctx context.Context, profile, region string) (*secretsmanager.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{}), config.WithClientLogMode(0)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("AWS profile %q is not in the AWS config or credentials file: check --profile or AWS_PROFILE (aws configure list-profiles)", pe.Profile)
		}
		return nil, fmt.Errorf("load AWS config: %s", wizard.Clean(err.Error(), 200))
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx, "getting AWS credentials")
		}
		return nil, noAWSCredentials(profile)
	}
	return secretsmanager.NewFromConfig(cfg), nil
}

func noAWSCredentials(profile string) error {
	if profile != "" {
		return fmt.Errorf("no usable AWS credentials in profile %q to read the array credential from Secrets Manager: run 'aws sso login --profile %s' or fix the profile, or set credentials.env in the answers", profile, profile)
	}
	return errors.New("no AWS credentials found to read the array credential from Secrets Manager: set AWS_PROFILE or pass --profile NAME (or run where an instance role is available), or set credentials.env in the answers")
}

// ctxError says why a wait ended: the overall deadline, or an interrupt
// (which exitCode turns into 130).
func ctxError(ctx context.Context, doing string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return fmt.Errorf("%s: no answer before the overall deadline (--timeout): check the network path, or raise --timeout", doing)
}

// credentialError turns a credential failure into one line.
func credentialError(ctx context.Context, err error, s *spec.Spec) error {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	ref := s.Storage.Management.Credentials
	if ref.SecretARN == "" {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return ctxError(ctx, "reading the array credential from Secrets Manager ("+ref.SecretARN+")")
	}
	return fmt.Errorf("read the array credential from Secrets Manager (%s): %s", ref.SecretARN, wizard.Clean(shortAWSError(err), 300))
}

// shortAWSError keeps the service's code and message, not the SDK's chain.
func shortAWSError(err error) string {
	type apiError interface {
		ErrorCode() string
		ErrorMessage() string
	}
	var ae apiError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// promptSecret asks for a secret on the terminal without echo. Ctrl-C (ctx
// cancelled) stops it at once and restores the terminal.
func promptSecret(ctx context.Context, label string, in *os.File, out io.Writer) (string, error) {
	fd := in.Fd()
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "%s: ", label)
	type answer struct {
		b   []byte
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		ch <- answer{b, err}
	}()
	select {
	case a := <-ch:
		fmt.Fprintln(out)
		return strings.TrimRight(string(a.b), "\r\n"), a.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(out)
		return "", ctx.Err()
	}
}
