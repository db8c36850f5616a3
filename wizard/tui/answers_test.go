package tui

// Accessible-mode tests. No fakes: the real prompts run against the real
// answers-file validation, fed line by line from a string (or an io.Pipe where
// the test needs input that never ends), writing into a buffer. Files go to
// t.TempDir().

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

var fixedUUID = uuid.MustParse("6d3b1a9e-0c2f-4e8b-9a71-3c5d7e9f1b24")

func fixedGen() uuid.UUID { return fixedUUID }

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// genericLines answer every question for a generic iSCSI workload, up to and
// without the final confirmation.
func genericLines() []string {
	return []string{
		"web01", "us-west-2", "1", // workload, region, linux
		"5", "1", // generic, iscsi
		"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10, 192.168.50.11:3260", "26", "", // boot
		"0",                                                            // data volumes
		"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "", "", // outposts
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01", "", // instance
		"2", "192.168.50.20/24", "192.168.50.1", // static LNI
		"1", "ops@example.com", // confirmed
		"", // advanced: No
	}
}

// ask runs the accessible prompts on piped input (a string reader).
func ask(t *testing.T, in string, o Options) (*spec.Spec, string, error) {
	t.Helper()
	return askWith(t, in, o, func(any) bool { return false })
}

// askAtTerminal stands in for a person at a terminal: refused answers are
// asked again.
func askAtTerminal(t *testing.T, in string, o Options) (*spec.Spec, string, error) {
	t.Helper()
	return askWith(t, in, o, func(any) bool { return true })
}

func askWith(t *testing.T, in string, o Options, terminal func(any) bool) (*spec.Spec, string, error) {
	t.Helper()
	var out bytes.Buffer
	o.Accessible, o.In, o.Out = true, strings.NewReader(in), &out
	if o.NewUUID == nil {
		o.NewUUID = fixedGen
	}
	s, err := askAnswers(context.Background(), o, terminal)
	return s, out.String(), err
}

func TestAccessibleAnswersGenericISCSI(t *testing.T) {
	s, out, err := ask(t, lines(append(genericLines(), "y")...), Options{})
	require.NoError(t, err, out)
	assert.Equal(t, "web01", s.Workload)
	assert.Equal(t, "generic", s.Storage.Vendor)
	assert.Equal(t, []string{"192.168.50.10", "192.168.50.11:3260"}, s.Storage.Boot.Portals)
	require.NotNil(t, s.Storage.Boot.LUN)
	assert.Equal(t, 26, *s.Storage.Boot.LUN)
	require.NotNil(t, s.LNI.Static)
	assert.Equal(t, "192.168.50.20/24", s.LNI.Static.Address)
	assert.Equal(t, "confirmed", s.Failover.Policy)
	assert.Nil(t, s.Storage.Management)
	assert.Equal(t, fixedUUID.String(), s.Identity.UUID, "the wizard pins the identity")
}

// Item 1: Enter on the final question saves and renders (default Yes).
// On the old code the default was No and this returned "user aborted".
func TestAccessibleFinalEnterMeansYes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web01.yaml")
	s, out, err := ask(t, lines(append(genericLines(), "")...), Options{SavePath: path})
	require.NoError(t, err, out)
	require.NotNil(t, s)
	assert.Contains(t, out, "Write the answers file and render the plan? (confirm)\n[Y/n]")
	assert.Contains(t, out, "Saved the answers to "+path)
	assert.FileExists(t, path)
}

// Item 1: No says "cancelled" and still offers to save the answers.
func TestAccessibleNoCancelsAndOffersToSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web01.yaml")
	_, out, err := ask(t, lines(append(genericLines(), "n", "")...), Options{SavePath: path})
	require.ErrorIs(t, err, ErrCancelled)
	assert.Contains(t, out, "cancelled")
	assert.Contains(t, out, "Save the answers you typed to "+path)
	data, rerr := os.ReadFile(path)
	require.NoError(t, rerr, "Enter on the save offer keeps the answers")
	s, perr := spec.Parse(data)
	require.NoError(t, perr)
	assert.Equal(t, "web01", s.Workload)

	// Declining the offer too writes nothing.
	path2 := filepath.Join(dir, "other.yaml")
	_, _, err = ask(t, lines(append(genericLines(), "n", "n")...), Options{SavePath: path2})
	require.ErrorIs(t, err, ErrCancelled)
	assert.NoFileExists(t, path2)
}

// Item 2: an existing --save-answers file is refused before the first
// question. On the old code the questions ran and the save failed at the end.
func TestSavePathCheckedBeforeFirstQuestion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web01.yaml")
	require.NoError(t, os.WriteFile(path, []byte("workload: x\n"), 0o600))
	_, out, err := ask(t, lines(genericLines()...), Options{SavePath: path})
	var spe *SavePathError
	require.ErrorAs(t, err, &spe)
	assert.ErrorIs(t, err, os.ErrExist)
	assert.Empty(t, out, "no question was asked")
	assert.Contains(t, err.Error(), "exists")

	require.Error(t, CheckSavePath(filepath.Join(t.TempDir(), "no-such-dir", "a.yaml")))
	require.NoError(t, CheckSavePath(filepath.Join(t.TempDir(), "a.yaml")))
}

// Item 2: automatic requires the primary Outpost ID, so it is asked right
// after the policy. On the old code the run failed after the final confirm
// and every answer was lost.
func TestAccessibleAutomaticAsksPrimaryOutpost(t *testing.T) {
	l := genericLines()
	i := indexOf(l, "ops@example.com")
	l[i-1] = "3" // automatic
	l = append(l[:i+1:i+1], "", "op-0123456789abcdef0", "I accept", spec.AutomaticAck, "", "y")
	s, out, err := askAtTerminal(t, lines(l...), Options{})
	require.NoError(t, err, out)
	assert.Equal(t, "op-0123456789abcdef0", s.Outposts.PrimaryOutpost)
	assert.Contains(t, out, "Primary Outpost ID (required by automatic) (outposts.primary_outpost)")
	assert.Contains(t, out, "the automatic policy needs the primary Outpost ID", "the empty line was refused at the field")
	assert.Contains(t, out, "does not carry the required acknowledgement")
}

// Item 2: an API vendor with no LUN is explained at the LUN field, in the
// same terms as plan (which needs the LUN to render offline).
func TestAccessibleAPIVendorLUNExplainedAtField(t *testing.T) {
	l := []string{
		"erp01", "us-east-1", "1",
		"1", "1", // ontap, iscsi
		"https://ontap1.example.net", "oha", "svm1", "", "1", // endpoint, user, svm, CA file, secrets manager
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/ontap-AbCdEf",
		"/vol/erp01/boot", "iqn.1992-08.com.netapp:sn.1:vs.3", "10.20.30.11",
		"", "0", // LUN left empty: refused at the field; then 0
		"",
	}
	_, out, err := askAtTerminal(t, lines(l...), Options{})
	var ie *InputEndedError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "storage.data", ie.Field, "the LUN was accepted on the second line")
	assert.Contains(t, out, "Needed by plan, which calls no array", "the help says plan needs it")
	assert.NotContains(t, out, "leave it out", "the help does not contradict plan")
	assert.Contains(t, out, "! is needed to render offline")

	// Piped, the empty LUN stops the run at that line.
	_, _, err = ask(t, lines(l...), Options{})
	var be *BadLineError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "storage.boot.lun", be.Field)
	assert.Equal(t, 15, be.Line)
}

// Item 2: a check that still fails at the end saves the answers first.
func TestLateFailureSavesFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "late.yaml")
	a := newAnswers(fixedUUID, path)
	a.s.Workload, a.s.Region = "web01", "us-west-2" // the rest is missing
	_, err := finish(a, io.Discard)
	var se *SavedError
	require.ErrorAs(t, err, &se)
	var ps spec.Problems
	require.ErrorAs(t, err, &ps, "cmd maps the problems to exit 2")
	assert.Contains(t, err.Error(), "saved to "+path)
	data, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Contains(t, string(data), "workload: web01")
}

// Item 5: every key a user needs is asked, and saved without empty stubs.
func TestAccessibleAsksEverythingAndSavesNoStubs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp01.yaml")
	chap := "arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/erp01-chap-QrStUv"
	l := []string{
		"erp01", "us-east-1", "1",
		"ontap", "iscsi", // choices by name work too
		"https://ontap1.example.net", "oha", "svm1", "/etc/outposts-ha/ontap-ca.pem", "1",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/ontap-AbCdEf",
		"/vol/erp01/boot", "iqn.1992-08.com.netapp:sn.1:vs.3", "10.20.30.11, 10.20.30.12", "0", chap,
		"1", // one data volume
		"/vol/erp01_data/lun0", "iqn.1992-08.com.netapp:sn.1:vs.3", "10.20.30.11, 10.20.30.12", "1", chap,
		"subnet-01234567", "subnet-89abcdef", "op-0123456789abcdef0", "op-0fedcba9876543210",
		"c6id.4xlarge", "ami-0a1b2c3d4e5f60789", "sg-0a1b2c3d", "", "oha-erp01", "oha-erp01-role",
		"1", "10s", // DHCP with a timeout
		"1", "storage-oncall@example.com",
		"y", "4", "3", "iqn.2001-04.com.example", `\EFI\redhat\shimx64.efi`, // advanced
		"",
	}
	s, out, err := ask(t, lines(l...), Options{SavePath: path})
	require.NoError(t, err, out)
	assert.Equal(t, "/etc/outposts-ha/ontap-ca.pem", s.Storage.Management.CAFile)
	require.Len(t, s.Storage.Data, 1)
	assert.Equal(t, "/vol/erp01_data/lun0", s.Storage.Data[0].Volume)
	assert.Equal(t, "op-0fedcba9876543210", s.Outposts.SecondaryOutpost)
	assert.Equal(t, "oha-erp01-role", s.Instance.InstanceProfileRole)
	assert.Equal(t, "10s", s.LNI.DHCPTimeout)
	assert.Equal(t, 4, s.Failover.DetectionPeriods)
	assert.Equal(t, 3, s.Failover.DatapointsToAlarm)
	assert.Equal(t, "iqn.2001-04.com.example", s.Identity.IQNAuthority)
	assert.Equal(t, `\EFI\redhat\shimx64.efi`, s.Boot.UEFIFilename)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(data)
	assert.NotContains(t, text, "{}", "no empty stubs")
	assert.NotContains(t, text, `""`, "no empty values")
	assert.Contains(t, text, "uuid: "+fixedUUID.String())
	parsed, err := spec.Parse(data)
	require.NoError(t, err)
	require.NoError(t, parsed.Validate())
	assert.Equal(t, s.Storage.Data, parsed.Storage.Data)
}

// Item 7: end of input stops with the field's name.
func TestAccessibleEndOfInput(t *testing.T) {
	_, _, err := ask(t, lines("web01"), Options{})
	var ie *InputEndedError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "input ended while asking region", err.Error())

	_, _, err = ask(t, "", Options{})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "workload", ie.Field)
}

// Item 7: Ctrl-C (the context ends) stops at once, even while the read
// blocks: the input here is a pipe nobody writes to.
func TestAccessibleCtrlCStopsAtOnce(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncBuffer
	go func() {
		_, err := AskAnswers(ctx, Options{Accessible: true, In: pr, Out: &out, NewUUID: fixedGen})
		done <- err
	}()
	_, err := io.WriteString(pw, "web01\n")
	require.NoError(t, err)
	waitFor(t, &out, "AWS Region")
	cancel()
	require.ErrorIs(t, <-done, ErrAborted)
}

// Item 7: a bad piped line does not swallow the lines after it. The old
// code asked again and took the next line (meant for the next question) as
// the retry, so every later line landed in the wrong field; "us-west-2" is a
// valid workload name, so the run went on silently shifted. Now piped input
// stops at the bad line, names it, and reads nothing after it.
func TestAccessibleBadPipedLineStops(t *testing.T) {
	l := append([]string{"Web01"}, genericLines()[1:]...)
	_, out, err := ask(t, lines(append(l, "y")...), Options{})
	var be *BadLineError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 1, be.Line)
	assert.Equal(t, "workload", be.Field)
	assert.Contains(t, err.Error(), "input line 1, answering workload")
	assert.NotContains(t, out, "AWS Region", "no later question was asked")

	l = genericLines()
	l[2] = "linux-ish" // guest OS
	_, _, err = ask(t, lines(append(l, "y")...), Options{})
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 3, be.Line)
	assert.Equal(t, "guest_os", be.Field)
}

// Item 7: at a terminal a refused answer is asked again, and costs only
// itself: each following line answers the next question.
func TestAccessibleTerminalAsksAgain(t *testing.T) {
	l := append([]string{"Web 01"}, genericLines()...) // a bad workload name first
	i := indexOf(l, "1")                               // guest OS choice
	l = append(l[:i:i], append([]string{"linux-ish", "9"}, l[i:]...)...)
	s, out, err := askAtTerminal(t, lines(append(l, "y")...), Options{})
	require.NoError(t, err, out)
	assert.Equal(t, "web01", s.Workload)
	assert.Equal(t, "us-west-2", s.Region)
	assert.Equal(t, "linux", s.GuestOS)
	assert.Equal(t, "generic", s.Storage.Vendor)
	assert.Contains(t, out, `! "linux-ish" is not one of the choices`)
	assert.Contains(t, out, `! "9" is not one of the choices`)
}

// Item 7: descriptions are printed, including the automatic policy's risk.
func TestAccessiblePrintsDescriptions(t *testing.T) {
	_, out, _ := ask(t, lines(genericLines()...), Options{})
	assert.Contains(t, out, "RISK: if only the service link to the Region is down")
	assert.Contains(t, out, "lowercase letters, digits and '-'")
}

// Item 4: a Region that is not real is refused.
func TestAccessibleRegionMustBeReal(t *testing.T) {
	_, out, _ := askAtTerminal(t, lines("web01", "xx-east-1", "us-west-2"), Options{})
	assert.Contains(t, out, `"xx-east-1" is not an AWS Region`)
	assert.Contains(t, out, "Guest operating system", "asked again, then went on")
	_, _, err := ask(t, lines("web01", "xx-east-1", "us-west-2"), Options{})
	var be *BadLineError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "region", be.Field)
}

// Item 7: `< /dev/null` is not a terminal, though it is a character device.
func TestIsTerminalDevNull(t *testing.T) {
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&os.ModeCharDevice, "precondition: /dev/null is a character device")
	assert.False(t, IsTerminal(f))
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	assert.False(t, IsTerminal(pr))
	assert.False(t, IsTerminal(strings.NewReader("")))
}

func indexOf(l []string, v string) int {
	for i, s := range l {
		if s == v {
			return i
		}
	}
	panic("no " + v)
}

// A problem in one entry of a list names the entry.
func TestCheckNamesTheListEntry(t *testing.T) {
	a := newAnswers(fixedUUID, "")
	a.boot.portals = "192.168.50.10, 10.20.30.300"
	err := a.check("storage.boot.portals")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "entry 2: ")
	assert.Contains(t, err.Error(), "10.20.30.300")
}

// Item 7: `< /dev/null` without --accessible still gets the plain prompts
// (it is not a terminal) and stops at once with the field it was asking.
func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	var out bytes.Buffer
	_, err = AskAnswers(context.Background(), Options{In: f, Out: &out, NewUUID: fixedGen})
	var ie *InputEndedError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "input ended while asking workload", err.Error())
	assert.Contains(t, out.String(), "Workload name (workload)")
}

// Item 2: NVMe/TCP data volumes on Windows are refused at the count, not
// after the last question.
func TestDataVolumeCountCheckedWhereAsked(t *testing.T) {
	a := newAnswers(fixedUUID, "")
	a.s.GuestOS, a.s.Storage.Protocol = "windows", "nvme-tcp"
	var count field
	for _, f := range a.stepFields("data volumes") {
		count = f
	}
	err := count.check("1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Windows")
	require.NoError(t, count.check("0"))
	a.s.Storage.Protocol = "iscsi"
	require.NoError(t, count.check("2"))
	assert.Equal(t, 2, a.dataCount())
}

// The LUN field's own pre-check allows what the SAN URI carries (0-16383, as
// plan does for HPE, PowerStore and generic targets); the vendor's narrower
// range is the spec's check.
func TestValidLUNFollowsTheSANURIRange(t *testing.T) {
	require.NoError(t, validLUN("5000"))
	require.NoError(t, validLUN("16383"))
	require.ErrorContains(t, validLUN("16384"), "use 0-16383")
	require.ErrorContains(t, validLUN("-1"), "out of range")
	require.ErrorContains(t, validLUN("1e3"), "not a whole number")
}
