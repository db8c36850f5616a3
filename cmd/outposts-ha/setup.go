package main

// setup: the unattended apply half (setup ANSWERS.yaml --yes) and
// setup --abort WORKLOAD. The guided flow (live inventory forms) is not
// built yet.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/wizard"
)

type setupFlags struct {
	yes, enableLNI bool
	abort          string
	out, profile   string
	caFile         string
	insecure       bool
	breakLease     string
}

func newSetupCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "setup ANSWERS.yaml --yes | setup --abort WORKLOAD [ANSWERS.yaml]",
		Short: "First-time setup: prepare the array, write both launch templates, launch on the primary, deploy the recovery stack",
		Long: `setup applies an answers file (review it first with 'outposts-ha plan'):

  1/8 lni               EnableLniAtDeviceIndex=1 on both subnets (only with --enable-lni)
  2/8 array-host        find or create the host with the workload's initiator identity
  3/8 array             map the boot and data volumes, read back the LUNs and the target
  4/8 user-data         render the user data with what the array assigned
  5/8 launch-templates  write lt-<w>-primary and lt-<w>-recovery
  6/8 helper            launch the instance from lt-<w>-primary and wait for its checks
  7/8 stack             upload the embedded function, deploy autorestart-<w> through the
                        CloudFormation service role an administrator created
  8/8 record            store the workload record in SSM under /outposts-ha/<w>/

Nothing is created before the checks pass and --yes confirms. Every step is
journaled in SSM (/outposts-ha/<w>/journal, mirrored into --out): run setup again
to resume after a failure, Ctrl-C (stops after the current step) or a crash, on
this or another machine. 'setup --abort WORKLOAD' undoes, in reverse, exactly
what the journal lists as created by setup (array volumes are never deleted);
give the answers file too when the array step ran, so abort can reach the array.

The guided flow (live lists, one form per step) is not built yet: without
--yes, setup refuses.

Exit codes: 0 done; 1 a step failed (run setup again to resume, or abort);
2 bad usage, bad answers or a failed check, nothing created; 130 interrupted
(resumable).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.abort != "" {
				return argsBetween(0, 1, "an optional answers file")(cmd, args)
			}
			return argsBetween(1, 1, "one answers file")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.abort != "" {
				return runSetupAbort(cmd.Context(), f, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return runSetup(cmd.Context(), f, args[0], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&f.yes, "yes", false, "confirm: apply the answers without the guided flow")
	cmd.Flags().BoolVar(&f.enableLNI, "enable-lni", false, "set EnableLniAtDeviceIndex=1 on a subnet that lacks it (abort undoes it)")
	cmd.Flags().StringVar(&f.abort, "abort", "", "undo the setup of this workload, exactly what its journal lists")
	cmd.Flags().StringVar(&f.out, "out", "", "plan folder for the journal and record copies (default out/<workload>)")
	cmd.Flags().StringVar(&f.profile, "profile", "", "AWS profile (default: AWS_PROFILE or the default chain)")
	cmd.Flags().StringVar(&f.caFile, "array-ca-file", "", "PEM bundle of the array's private CA (overrides storage.management.ca_file)")
	cmd.Flags().BoolVar(&f.insecure, "array-insecure", false, "skip TLS verification of the array (prints a warning)")
	cmd.Flags().StringVar(&f.breakLease, "break-lease", "", "take over the apply lease of this run ID (a run you know is dead)")
	return cmd
}

// setupInputs loads the answers, the AWS clients and the array client.
func setupInputs(ctx context.Context, f setupFlags, path string, stdin io.Reader, stderr io.Writer) (wizard.SetupOptions, error) {
	var o wizard.SetupOptions
	data, err := readAnswersFile(path)
	if err != nil {
		return o, err
	}
	s, err := spec.Parse(data)
	if err != nil {
		return o, err
	}
	if err := s.Validate(); err != nil {
		return o, err
	}
	o.Spec, o.Answers = s, data
	o.PlanDir = f.out
	if o.PlanDir == "" {
		o.PlanDir = filepath.Join("out", s.Workload)
	}
	// The identity must be pinned (answers or the plan's identity.json): a
	// new one per run would map another initiator on a resume.
	generated := false
	id, _, err := wizard.ResolveIdentity(s, o.PlanDir, func() uuid.UUID { generated = true; return uuid.New() })
	if err != nil {
		return o, err
	}
	if generated {
		return o, usageError{fmt.Errorf("no pinned identity: run 'outposts-ha plan %s' first (it writes identity.json into %s), or set identity.uuid in the answers", path, o.PlanDir)}
	}
	o.Identity = id
	cfg, err := awsx.LoadConfig(ctx, awsx.Options{Profile: f.profile, Region: s.Region})
	if err != nil {
		return o, err
	}
	o.Clients = wizard.ClientsFromConfig(cfg)
	if m := s.Storage.Management; m != nil || s.Storage.Vendor == "generic" {
		var creds storage.Credentials
		if m != nil {
			src := wizard.CredentialSources{Getenv: os.Getenv}
			if m.Credentials.SecretARN != "" {
				if src.Secrets, err = secretsClient(ctx, f.profile, s.Region); err != nil {
					return o, err
				}
			}
			if isTerminal(stdin) {
				src.Prompt = func(label string) (string, error) { return promptSecret(ctx, label, stdin.(*os.File), stderr) }
			}
			if creds, err = wizard.ResolveCredentials(ctx, s, src); err != nil {
				return o, credentialError(ctx, err, s)
			}
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		arr, warning, err := wizard.OpenArray(s, creds, storage.TLSOptions{CAFile: f.caFile, Insecure: f.insecure}, log)
		if err != nil {
			return o, err
		}
		if warning != "" {
			fmt.Fprintln(stderr, warning)
		}
		o.Array = arr
	}
	o.EnableLNI, o.Yes, o.BreakLease = f.enableLNI, f.yes, f.breakLease
	return o, nil
}

func runSetup(ctx context.Context, f setupFlags, path string, stdin io.Reader, stdout, stderr io.Writer) error {
	if !f.yes {
		return usageError{errors.New("setup without --yes needs the guided flow, which is not built yet: review 'outposts-ha plan ANSWERS.yaml', then run 'outposts-ha setup ANSWERS.yaml --yes'")}
	}
	o, err := setupInputs(ctx, f, path, stdin, stderr)
	if err != nil {
		return err
	}
	o.Out = stdout
	_, err = wizard.Setup(ctx, o)
	return setupError(err, stderr)
}

func runSetupAbort(ctx context.Context, f setupFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := naming.ValidateWorkload(f.abort); err != nil {
		return usageError{fmt.Errorf("--abort %q: %w", f.abort, err)}
	}
	var o wizard.SetupOptions
	if len(args) == 1 {
		var err error
		if o, err = setupInputs(ctx, f, args[0], stdin, stderr); err != nil {
			return err
		}
		if o.Spec.Workload != f.abort {
			return usageError{fmt.Errorf("--abort %s but the answers file is for workload %s", f.abort, o.Spec.Workload)}
		}
	} else {
		cfg, err := awsx.LoadConfig(ctx, awsx.Options{Profile: f.profile})
		if err != nil {
			return err
		}
		o.Spec = &spec.Spec{Workload: f.abort, Region: cfg.Region}
		o.Clients = wizard.ClientsFromConfig(cfg)
		o.PlanDir = f.out
		if o.PlanDir == "" {
			o.PlanDir = filepath.Join("out", f.abort)
		}
	}
	o.Out, o.BreakLease = stdout, f.breakLease
	return setupError(wizard.Abort(ctx, o), stderr)
}

// setupError maps setup's outcomes to the exit-code table.
func setupError(err error, stderr io.Writer) error {
	var pe *wizard.PreflightError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, apply.ErrInterrupted):
		fmt.Fprintln(stderr, "outposts-ha:", err)
		return reportedError{code: exitAborted, msg: err.Error()}
	case errors.As(err, &pe):
		return usageError{err}
	}
	return err
}
