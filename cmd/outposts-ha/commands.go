package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/wizard"
	"github.com/outposts-ha/outposts-ha/wizard/tui"
)

func envTrue(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// isTerminal reports whether v (stdin or stderr) is an interactive terminal:
// a real TTY, not merely a character device (/dev/null is one and is not a
// terminal).
func isTerminal(v any) bool { return tui.IsTerminal(v) }

// argsBetween checks the count of positional arguments; a wrong count is a
// usage error (exit 2) that names the extra or the missing argument.
func argsBetween(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) > hi && hi == 0:
			return usageError{fmt.Errorf("unexpected argument %q: %s takes no arguments (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())}
		case len(args) > hi:
			return usageError{fmt.Errorf("unexpected extra argument %q: %s takes %s (see '%s --help')", args[hi], cmd.CommandPath(), what, cmd.CommandPath())}
		case len(args) < lo:
			return usageError{fmt.Errorf("missing argument: %s needs %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())}
		}
		return nil
	}
}

// groupRun makes a command that only holds subcommands show its help when
// called bare, and refuse an unknown subcommand with exit 2. (Cobra would
// print the help and exit 0 for an unknown subcommand of a subcommand.)
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath())}
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "outposts-ha",
		Short: "N+1 high availability for SAN-booted EC2 instances on AWS Outposts servers",
		Long: `outposts-ha protects a stateful EC2 instance on an AWS Outposts server whose boot and
data volumes live on a SAN array (NetApp ONTAP, Pure FlashArray, Dell PowerStore,
HPE Alletra/Primera/3PAR, or any iSCSI / NVMe-over-TCP target). When the instance
fails, a CloudWatch alarm, SNS and a failover function relaunch it on a second
Outposts server, which reattaches the same volumes. Never two writers on one LUN.`,
		Version: versionString(),
		// "did you mean" for unknown commands within two edits
		SuggestionsMinimumDistance: 2,
		Args:                       cobra.ArbitraryArgs,
		RunE:                       groupRun,
		SilenceUsage:               true,
		SilenceErrors:              true,
	}
	root.SetVersionTemplate("outposts-ha {{.Version}}\n")
	// The exit-code table closes the root help (subcommands point to it).
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		defaultHelp(c, args)
		if c == root {
			fmt.Fprintln(c.OutOrStdout(), "\n"+exitCodeTable)
		}
	})
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	})
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newPlanCmd(), newArrayCmd(), newSetupCmd(), newVersionCmd())
	for _, c := range notBuilt {
		root.AddCommand(notBuiltCmd(c.use, c.short))
	}
	return root
}

// readAnswersFile reads an answers file, refusing before anything else
// happens one that is missing, unreadable, not a regular file (a FIFO would
// hang, a device would never end) or over the size limit.
func readAnswersFile(path string) ([]byte, error) {
	data, err := spec.ReadRegularFile(path, spec.MaxAnswersSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageError{fmt.Errorf("answers file %s does not exist", path)}
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("answers file: %w", err)}
	}
	return data, nil
}

func newPlanCmd() *cobra.Command {
	var out, save string
	var accessible bool
	cmd := &cobra.Command{
		Use:   "plan [ANSWERS.yaml]",
		Short: "Render every artifact setup will apply, offline: user data, launch templates, stack, IAM policy",
		Long: `plan reads an answers file, validates it (every problem at once, each naming the
field and the fix), and writes into --out: the user data (raw and base64) with the
iPXE or LocalBoot script and data-volume scripts, both launch templates as
CreateLaunchTemplate JSON, the recovery stack template and its parameters, the
least-privilege IAM policy an operator needs, and a summary. It calls no AWS API
and no array. The same answers and identity give byte-identical output.

The workload's initiator identity is generated once: pin it in the answers file
(identity.uuid) or keep the identity.json plan writes in --out.

Without ANSWERS.yaml, plan asks the questions in the terminal (plain prompts with
--accessible, ACCESSIBLE=1, or when the terminal is not interactive), saves the
answers to --save-answers, and renders the plan from that file. --save-answers
and ANSWERS.yaml do not go together.

Exit codes: 0 ok, 1 error, 2 bad usage or bad input (nothing changed),
130 interrupted; see 'outposts-ha --help'.`,
		Example: "  outposts-ha plan examples/generic-iscsi-multipath.yaml --out out/db01\n  outposts-ha plan --save-answers web01.yaml",
		Args:    argsBetween(0, 1, "at most one answers file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
				if save != "" {
					return usageError{fmt.Errorf("--save-answers %s asks the questions, and %s is already an answers file: give one or the other", save, path)}
				}
				if _, err := readAnswersFile(path); err != nil {
					return err
				}
			} else {
				if save == "" {
					return usageError{errors.New("give an answers file, or --save-answers FILE to answer the questions here")}
				}
				// Checked before the first question, so nothing typed is lost.
				if err := tui.CheckSavePath(save); err != nil {
					return err
				}
				// The wizard saves the answers itself (after the final Yes,
				// after a No when asked, and before reporting a late problem)
				// and says so.
				if _, err := tui.AskAnswers(cmd.Context(), tui.Options{
					Accessible: accessible || envTrue("ACCESSIBLE") || !isTerminal(cmd.InOrStdin()) || !isTerminal(cmd.ErrOrStderr()),
					In:         cmd.InOrStdin(), Out: cmd.ErrOrStderr(),
					SavePath: save,
				}); err != nil {
					if errors.Is(err, tui.ErrCancelled) {
						// The operator said No; the wizard said "cancelled" and
						// where the answers went. Nothing more to print.
						return reportedError{code: exitError, msg: err.Error()}
					}
					return err
				}
				path = save
			}
			_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: path, OutDir: out}, cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "folder to write the plan into (default out/<workload>)")
	cmd.Flags().StringVar(&save, "save-answers", "", "with no ANSWERS.yaml: ask in the terminal and save the answers here")
	cmd.Flags().BoolVar(&accessible, "accessible", false, "plain line-by-line prompts (screen readers, scripts)")
	_ = cmd.MarkFlagFilename("out")
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return cmd
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (also: --version)",
		Args:  argsBetween(0, 0, ""),
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "outposts-ha", versionString())
		},
	}
}

var notBuilt = []struct{ use, short string }{
	{"drill", "Failover drill: --dry-run asks the recovery function what it would do; the full drill fences and fails over for real"},
	{"failover", "Manual, operator-approved failover (what the notify and confirmed policies ask for)"},
	{"failback", "Guided manual failback to the primary server"},
	{"cleanup", "Guided teardown of everything a workload owns, array side included"},
	{"status", "Every workload: protected, degraded, maintenance or broken"},
	{"maintenance", "Suspend automatic failover for a bounded time"},
}

func notBuiltCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: "[not built yet] " + short,
		Long: short + `.

Not built yet: this release has plan, array check, version and unattended setup (setup ANSWERS --yes) (see README.md,
'What works today'). Exit codes: see 'outposts-ha --help'.`,
		// Flags of a command that does not exist yet are not parsed (so a
		// script written for the future command gets "not built yet", not
		// "unknown flag"); --help and -h still show the help.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "--" {
					break
				}
				if a == "--help" || a == "-h" {
					return cmd.Help()
				}
			}
			return fmt.Errorf("%s is not built yet: this release has plan, array check, version and unattended setup (setup ANSWERS --yes) (see README.md, 'What works today')", use)
		},
	}
}
