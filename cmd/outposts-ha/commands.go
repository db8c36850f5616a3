package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/outposts-ha/outposts-ha/wizard"
	"github.com/outposts-ha/outposts-ha/wizard/tui"
)

func envTrue(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newPlanCmd(), newArrayCmd(), newVersionCmd())
	for _, c := range notBuilt {
		root.AddCommand(notBuiltCmd(c.use, c.short))
	}
	return root
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
answers to --save-answers, and renders the plan from that file.`,
		Example: "  outposts-ha plan examples/generic-iscsi-multipath.yaml --out out/db01\n  outposts-ha plan --save-answers web01.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			} else {
				if save == "" {
					return usageError{errors.New("give an answers file, or --save-answers FILE to answer the questions here")}
				}
				s, err := tui.AskAnswers(cmd.Context(), tui.Options{
					Accessible: accessible || envTrue("ACCESSIBLE") || !isTerminal(cmd.InOrStdin()),
					In:         cmd.InOrStdin(), Out: cmd.ErrOrStderr(),
				})
				if err != nil {
					return err
				}
				if err := wizard.SaveAnswers(save, s); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Saved the answers to %s\n", save)
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
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "outposts-ha", versionString())
		},
	}
}

var notBuilt = []struct{ use, short string }{
	{"setup", "Guided first-time setup: prepare the array, launch on the primary, write both launch templates, deploy the recovery stack"},
	{"drill", "Failover drill: --dry-run asks the recovery function what it would do; the full drill fences and fails over for real"},
	{"failover", "Manual, operator-approved failover (what the notify and confirmed policies ask for)"},
	{"failback", "Guided manual failback to the primary server"},
	{"cleanup", "Guided teardown of everything a workload owns, array side included"},
	{"status", "Every workload: protected, degraded, maintenance or broken"},
	{"maintenance", "Suspend automatic failover for a bounded time"},
}

func notBuiltCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              "[not built yet] " + short,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("%s is not built yet: this release has plan, array check and version (see README.md, 'What works today')", use)
		},
	}
}
