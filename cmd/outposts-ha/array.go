package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/charmbracelet/huh"
	"github.com/spf13/cobra"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// arrayFlags are the TLS and AWS flags every command that talks to the array shares.
type arrayFlags struct {
	caFile   string
	insecure bool
	profile  string
	timeout  time.Duration
}

func (f *arrayFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.caFile, "array-ca-file", "", "PEM bundle of the array's private CA (overrides storage.management.ca_file)")
	cmd.Flags().BoolVar(&f.insecure, "array-insecure", false, "skip TLS verification of the array (prints a warning; prefer --array-ca-file)")
	cmd.Flags().StringVar(&f.profile, "profile", "", "AWS profile, to read a Secrets Manager credential")
	cmd.Flags().DurationVar(&f.timeout, "probe-timeout", 2*time.Second, "TCP probe timeout per portal")
}

func newArrayCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "array",
		Short: "Read-only checks against the storage array",
	}
	var f arrayFlags
	check := &cobra.Command{
		Use:   "check ANSWERS.yaml",
		Short: "Log in, find the volumes, discover the target, probe the portals; changes nothing",
		Long: `array check is a read-only preflight of the array an answers file describes. It logs
in with the credential the answers name (Secrets Manager, environment variable or
masked prompt; never a flag), finds the boot and data volumes, discovers the
target and compares it with the answers, probes every portal over TCP (reported,
never fatal), and logs out. TLS is verified; use --array-ca-file for a private CA.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runArrayCheck(cmd.Context(), args[0], f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(check)
	cmd.AddCommand(check)
	return cmd
}

func runArrayCheck(ctx context.Context, path string, f arrayFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read answers: %w", err)
	}
	s, err := spec.Parse(data)
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	var creds storage.Credentials
	if s.Storage.Management != nil {
		src := wizard.CredentialSources{Getenv: os.Getenv}
		if s.Storage.Management.Credentials.SecretARN != "" {
			cfg, err := awsx.LoadConfig(ctx, awsx.Options{Profile: f.profile, Region: s.Region})
			if err != nil {
				return err
			}
			src.Secrets = secretsmanager.NewFromConfig(cfg)
		}
		if isTerminal(stdin) {
			src.Prompt = func(label string) (string, error) {
				var v string
				err := huh.NewInput().Title(label).EchoMode(huh.EchoModePassword).Value(&v).
					WithTheme(huh.ThemeBase()).RunAccessible(stderr, stdin)
				return v, err
			}
		}
		if creds, err = wizard.ResolveCredentials(ctx, s, src); err != nil {
			return err
		}
	}
	// Vendor clients log request lines at debug level only; the default here is warnings.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	arr, warning, err := wizard.OpenArray(s, creds, storage.TLSOptions{CAFile: f.caFile, Insecure: f.insecure}, log)
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(stderr, warning)
	}
	res, err := wizard.CheckArray(ctx, arr, s, f.timeout)
	for _, r := range res {
		mark := "ok  "
		if !r.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(stdout, "%s %-28s %s\n", mark, r.What, r.Detail)
	}
	return err
}
