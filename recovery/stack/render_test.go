// Unit tests of Render: golden files (go test ./recovery/stack -update
// regenerates them), and checks that parse the rendered YAML and hold it to
// the contract and to the safety points of anchors.md §D (missing-data
// handling, PassRole, scoped IAM, no VPC, DLQ alarm, no operator text in the
// template). No fakes: Render is pure.
package stack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenConfigs are the configurations whose rendering is pinned in testdata/.
var goldenConfigs = []struct {
	name string
	cfg  Config
}{
	{"plan-confirmed-web01", Config{
		// What `plan` renders: nothing deployed yet, so placeholders.
		Workload: "web01", Region: "us-west-2", Policy: recovery.PolicyConfirmed,
		NotificationEmail: "ops@example.com", InstanceProfileRole: "web01-instance",
		PrimaryOutpostID: "op-0123456789abcdef0", SecondaryOutpostID: "op-0fedcba9876543210",
	}},
	{"deploy-automatic-db-primary", Config{
		Workload: "db-primary", Region: "eu-west-1", Partition: "aws", Policy: recovery.PolicyAutomatic,
		AlarmPeriods: 4, AlarmDatapoints: 3,
		NotificationEmail: "dba+oncall@corp.example.org", InstanceProfileRole: "platform/db-primary-boot",
		PrimaryOutpostID: "op-00000000000000001", PrimaryInstanceID: "i-0abc123def4567890",
		BundleBucket: "outposts-ha-111122223333-eu-west-1", BundleKey: "lambda/" + strings.Repeat("ab", 32) + ".zip",
	}},
	{"notify-minimal-gov", Config{
		Workload: "app7", Region: "us-gov-west-1", Policy: recovery.PolicyNotify,
		NotificationEmail: "noc@agency.example.gov", InstanceProfileRole: "app7-role",
		PrimaryInstanceID: "i-12345678",
	}},
}

func mustRender(t testing.TB, c Config) Rendered {
	t.Helper()
	r, err := Render(c)
	require.NoError(t, err)
	return r
}

func TestRenderGolden(t *testing.T) {
	for _, gc := range goldenConfigs {
		t.Run(gc.name, func(t *testing.T) {
			r := mustRender(t, gc.cfg)
			params, err := json.MarshalIndent(r.Parameters, "", "  ")
			require.NoError(t, err)
			params = append(params, '\n')
			checkGolden(t, filepath.Join("testdata", gc.name+".template.yaml"), r.Template)
			checkGolden(t, filepath.Join("testdata", gc.name+".parameters.json"), params)
			assert.Equal(t, naming.Stack(gc.cfg.Workload), r.Name)
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./recovery/stack -update")
	assert.Equal(t, string(want), string(got), "%s differs: review, then go test ./recovery/stack -update", path)
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, gc := range goldenConfigs {
		a := mustRender(t, gc.cfg)
		for i := 0; i < 20; i++ { // map iteration order varies run to run
			b := mustRender(t, gc.cfg)
			require.True(t, bytes.Equal(a.Template, b.Template), gc.name)
			require.Equal(t, a.Parameters, b.Parameters, gc.name)
		}
	}
}

// The template is a function of the workload name alone: every other value
// travels as a parameter. So no operator text can reach the YAML.
func TestTemplateDependsOnlyOnWorkload(t *testing.T) {
	a := mustRender(t, goldenConfigs[0].cfg)
	other := goldenConfigs[1].cfg
	other.Workload = goldenConfigs[0].cfg.Workload
	other.Region, other.Partition = "us-west-2", ""
	b := mustRender(t, other)
	assert.Equal(t, string(a.Template), string(b.Template))
	assert.NotEqual(t, a.Parameters, b.Parameters)
}

func TestNoOperatorTextInTemplate(t *testing.T) {
	c := Config{
		Workload: "web01", Region: "us-west-2", Policy: recovery.PolicyAutomatic,
		AlarmPeriods: 7, AlarmDatapoints: 6,
		NotificationEmail:   "sentinel.mail+x@sentinel-domain.example",
		InstanceProfileRole: "sentinel/role-name@x",
		PrimaryOutpostID:    "op-5e4714e15e4714e15", SecondaryOutpostID: "op-5e4714e25e4714e25",
		PrimaryInstanceID: "i-5e4714e35e4714e35",
		BundleBucket:      "sentinel-bucket-name", BundleKey: "lambda/" + strings.Repeat("5e", 32) + ".zip",
	}
	r := mustRender(t, c)
	byKey := map[string]string{}
	for _, p := range r.Parameters {
		byKey[p.Key] = p.Value
	}
	for key, v := range map[string]string{
		pEmail: c.NotificationEmail, pRole: c.InstanceProfileRole, pPrimaryOP: c.PrimaryOutpostID,
		pInstance: c.PrimaryInstanceID, pBucket: c.BundleBucket, pKey: c.BundleKey,
		pPeriods: "7", pDatapoints: "6", pPolicy: "automatic",
	} {
		assert.Equal(t, v, byKey[key], "parameter %s carries the raw value", key)
		if key != pPolicy && key != pPeriods && key != pDatapoints { // enum and numbers appear as constraints
			assert.False(t, strings.Contains(string(r.Template), v), "operator value for %s spliced into the template", key)
		}
	}
	assert.False(t, strings.Contains(string(r.Template), "sentinel"))
	assert.False(t, strings.Contains(string(r.Template), "5e4714e"))
}

func TestRenderRejectsBadInput(t *testing.T) {
	base := goldenConfigs[0].cfg
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"workload with newline", func(c *Config) { c.Workload = "web01\nResources:" }, "workload name"},
		{"workload uppercase", func(c *Config) { c.Workload = "Web01" }, "workload name"},
		{"workload empty", func(c *Config) { c.Workload = "" }, "workload name"},
		{"region empty", func(c *Config) { c.Region = "" }, "region"},
		{"region junk", func(c *Config) { c.Region = "us-west-2: x" }, "region"},
		{"partition mismatch", func(c *Config) { c.Partition = "aws-cn" }, "partition"},
		{"policy unknown", func(c *Config) { c.Policy = "yolo" }, "failover policy"},
		{"periods too many", func(c *Config) { c.AlarmPeriods = MaxAlarmPeriods + 1 }, "alarm periods"},
		{"periods negative", func(c *Config) { c.AlarmPeriods = -1 }, "alarm periods"},
		{"datapoints above periods", func(c *Config) { c.AlarmPeriods, c.AlarmDatapoints = 3, 4 }, "alarm datapoints"},
		{"email empty", func(c *Config) { c.NotificationEmail = "" }, "notification email"},
		{"email with name", func(c *Config) { c.NotificationEmail = "Ops <ops@example.com>" }, "notification email"},
		{"email with newline", func(c *Config) { c.NotificationEmail = "ops@example.com\nBcc: x@y.z" }, "notification email"},
		{"email yaml", func(c *Config) { c.NotificationEmail = "a: b@example.com" }, "notification email"},
		{"email quote", func(c *Config) { c.NotificationEmail = "o'neil@example.com" }, "notification email"},
		{"role empty", func(c *Config) { c.InstanceProfileRole = "" }, "instance profile role"},
		{"role arn", func(c *Config) { c.InstanceProfileRole = "arn:aws:iam::1:role/x" }, "instance profile role"},
		{"role wildcard", func(c *Config) { c.InstanceProfileRole = "*" }, "instance profile role"},
		{"role too long", func(c *Config) { c.InstanceProfileRole = strings.Repeat("r", 65) }, "instance profile role"},
		{"role sub injection", func(c *Config) { c.InstanceProfileRole = "${AWS::AccountId}" }, "instance profile role"},
		{"outpost bad", func(c *Config) { c.PrimaryOutpostID = "op-xyz" }, "primary outpost id"},
		{"secondary bad", func(c *Config) { c.SecondaryOutpostID = "op-0123" }, "secondary outpost id"},
		{"same outposts", func(c *Config) { c.SecondaryOutpostID = c.PrimaryOutpostID }, "secondary outpost id"},
		{"instance bad", func(c *Config) { c.PrimaryInstanceID = "i-XYZ" }, "primary instance id"},
		{"bucket bad", func(c *Config) { c.BundleBucket = "Bad_Bucket" }, "bundle bucket"},
		{"key bad", func(c *Config) { c.BundleKey = "lambda/../x.zip" }, "bundle key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			_, err := Render(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestRenderDefaults(t *testing.T) {
	c := goldenConfigs[0].cfg
	c.Policy, c.AlarmPeriods, c.AlarmDatapoints = "", 0, 0
	r := mustRender(t, c)
	p := paramMap(r)
	assert.Equal(t, "confirmed", p[pPolicy], "the safe default")
	assert.Equal(t, "3", p[pPeriods])
	assert.Equal(t, "3", p[pDatapoints])

	c.AlarmPeriods = 5
	p = paramMap(mustRender(t, c))
	assert.Equal(t, "5", p[pDatapoints], "M defaults to N")

	c.Region, c.Partition = "cn-north-1", ""
	_, err := Render(c)
	assert.NoError(t, err, "partition derives from the Region")
}

func paramMap(r Rendered) map[string]string {
	out := map[string]string{}
	for _, p := range r.Parameters {
		out[p.Key] = p.Value
	}
	return out
}

// Placeholders mark what only setup knows, and each fails its parameter's
// AllowedPattern, so CloudFormation would refuse a plan deployed by hand.
func TestPlaceholders(t *testing.T) {
	r := mustRender(t, goldenConfigs[0].cfg)
	assert.Equal(t, []string{pBucket, pKey, pInstance}, r.Unset())
	tp := parseTemplate(t, r.Template)
	for _, k := range r.Unset() {
		re := regexp.MustCompile(tp.Parameters[k].AllowedPattern)
		assert.False(t, re.MatchString(Placeholder), "%s pattern accepts the placeholder", k)
	}
	assert.Empty(t, mustRender(t, goldenConfigs[1].cfg).Unset())
}

// Every parameter value Render emits is one CloudFormation accepts, and the
// parameter lists of template and Rendered agree.
func TestParametersMatchTemplateConstraints(t *testing.T) {
	for _, gc := range goldenConfigs {
		r := mustRender(t, gc.cfg)
		tp := parseTemplate(t, r.Template)
		var keys []string
		for _, p := range r.Parameters {
			keys = append(keys, p.Key)
			def, ok := tp.Parameters[p.Key]
			require.True(t, ok, "%s: parameter %s not in template", gc.name, p.Key)
			if p.Value == Placeholder {
				continue
			}
			if def.AllowedPattern != "" {
				assert.Regexp(t, def.AllowedPattern, p.Value, "%s: %s", gc.name, p.Key)
			}
			if len(def.AllowedValues) > 0 {
				assert.Contains(t, def.AllowedValues, p.Value, "%s: %s", gc.name, p.Key)
			}
		}
		var tkeys []string
		for k := range tp.Parameters {
			tkeys = append(tkeys, k)
		}
		sort.Strings(tkeys)
		assert.Equal(t, tkeys, keys, "%s: every template parameter is rendered, in key order", gc.name)
	}
}

// The numeric parameters' patterns accept exactly the ranges Go enforces.
func TestNumericPatternsMatchBounds(t *testing.T) {
	periods := regexp.MustCompile(periodsPattern)
	fence := regexp.MustCompile(fencePattern)
	for n := -5; n <= 2000; n++ {
		s := strconv.Itoa(n)
		assert.Equal(t, n >= 1 && n <= MaxAlarmPeriods, periods.MatchString(s), "periods %d", n)
		assert.Equal(t, n >= MinFenceTimeoutSeconds && n <= MaxFenceTimeoutSeconds, fence.MatchString(s), "fence %d", n)
	}
	for _, s := range []string{"", "01", "3.0", " 3", "3\n", "+3"} {
		assert.False(t, periods.MatchString(s), "periods %q", s)
	}
	assert.True(t, fence.MatchString(strconv.Itoa(DefaultFenceTimeoutSeconds)))
	assert.Less(t, MaxFenceTimeoutSeconds, FunctionTimeoutSeconds)
}

// ---- parsed template helpers ----

type parsedTemplate struct {
	FormatVersion string                    `yaml:"AWSTemplateFormatVersion"`
	Description   string                    `yaml:"Description"`
	Metadata      map[string]map[string]any `yaml:"Metadata"`
	Parameters    map[string]parameter      `yaml:"Parameters"`
	Conditions    map[string]any            `yaml:"Conditions"`
	Resources     map[string]parsedResource `yaml:"Resources"`
	Outputs       map[string]map[string]any `yaml:"Outputs"`
}

type parsedResource struct {
	Type           string         `yaml:"Type"`
	Condition      string         `yaml:"Condition"`
	DependsOn      []string       `yaml:"DependsOn"`
	Metadata       map[string]any `yaml:"Metadata"`
	DeletionPolicy string         `yaml:"DeletionPolicy"`
	UpdateReplace  string         `yaml:"UpdateReplacePolicy"`
	Properties     map[string]any `yaml:"Properties"`
}

func parseTemplate(t testing.TB, b []byte) parsedTemplate {
	t.Helper()
	var tp parsedTemplate
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&tp))
	return tp
}

func (tp parsedTemplate) only(t *testing.T, typ string) (string, parsedResource) {
	t.Helper()
	var id string
	var res parsedResource
	n := 0
	for k, r := range tp.Resources {
		if r.Type == typ {
			id, res, n = k, r, n+1
		}
	}
	require.Equal(t, 1, n, "want exactly one %s", typ)
	return id, res
}

func refOf(v any) string {
	if mm, ok := v.(map[string]any); ok {
		if s, ok := mm["Ref"].(string); ok {
			return s
		}
	}
	return ""
}

func getAttOf(v any) []any {
	if mm, ok := v.(map[string]any); ok {
		if l, ok := mm["Fn::GetAtt"].([]any); ok {
			return l
		}
	}
	return nil
}

// ---- the contract, checked on the parsed template ----

func TestTemplateAlarms(t *testing.T) {
	w := "web01"
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	status := tp.Resources["StatusAlarm"]
	require.Equal(t, "AWS::CloudWatch::Alarm", status.Type)
	p := status.Properties
	assert.Equal(t, StatusAlarmName(w), p["AlarmName"])
	assert.Equal(t, "AWS/EC2", p["Namespace"])
	assert.Equal(t, "StatusCheckFailed_Instance", p["MetricName"])
	assert.Equal(t, "Maximum", p["Statistic"])
	assert.Equal(t, 60, p["Period"])
	assert.Equal(t, pPeriods, refOf(p["EvaluationPeriods"]))
	assert.Equal(t, pDatapoints, refOf(p["DatapointsToAlarm"]))
	assert.Equal(t, "GreaterThanThreshold", p["ComparisonOperator"])
	assert.Equal(t, 0, p["Threshold"])
	assert.Equal(t, "breaching", p["TreatMissingData"], "a dead server publishes nothing")
	assert.Equal(t, []any{map[string]any{"Name": "InstanceId", "Value": map[string]any{"Ref": pInstance}}}, p["Dimensions"])
	assert.Equal(t, []any{map[string]any{"Ref": "AlertsTopic"}}, p["AlarmActions"])
	assert.Empty(t, status.Condition)

	conn := tp.Resources["ConnectedAlarm"]
	require.Equal(t, "AWS::CloudWatch::Alarm", conn.Type)
	assert.Equal(t, cHasPrimaryOP, conn.Condition)
	p = conn.Properties
	assert.Equal(t, ConnectedAlarmName(w), p["AlarmName"])
	assert.Equal(t, "AWS/Outposts", p["Namespace"])
	assert.Equal(t, "ConnectedStatus", p["MetricName"])
	assert.Equal(t, "Maximum", p["Statistic"], "a minute counts as down only if the Outpost was disconnected all of it")
	assert.Equal(t, "LessThanThreshold", p["ComparisonOperator"])
	assert.Equal(t, 1, p["Threshold"])
	assert.Equal(t, "breaching", p["TreatMissingData"])
	assert.Equal(t, pPeriods, refOf(p["EvaluationPeriods"]))
	assert.Equal(t, pDatapoints, refOf(p["DatapointsToAlarm"]))
	assert.Equal(t, []any{map[string]any{"Name": "OutpostId", "Value": map[string]any{"Ref": pPrimaryOP}}}, p["Dimensions"])
	assert.Equal(t, []any{map[string]any{"Ref": "AlertsTopic"}}, p["AlarmActions"])

	// The DLQ is read by someone: an alarm notifies the topic.
	dlqAlarm := tp.Resources["DeadLetterAlarm"].Properties
	assert.Equal(t, "AWS/SQS", dlqAlarm["Namespace"])
	assert.Equal(t, "ApproximateNumberOfMessagesVisible", dlqAlarm["MetricName"])
	assert.Equal(t, "GreaterThanThreshold", dlqAlarm["ComparisonOperator"])
	assert.Equal(t, 0, dlqAlarm["Threshold"])
	assert.Equal(t, []any{"DeadLetterQueue", "QueueName"}, getAttOf(dlqAlarm["Dimensions"].([]any)[0].(map[string]any)["Value"]))
	assert.Equal(t, []any{map[string]any{"Ref": "AlertsTopic"}}, dlqAlarm["AlarmActions"])
}

func TestTemplateFunction(t *testing.T) {
	w := "web01"
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	id, fn := tp.only(t, "AWS::Lambda::Function")
	p := fn.Properties
	assert.Equal(t, FunctionName(w), p["FunctionName"])
	assert.Equal(t, "provided.al2023", p["Runtime"])
	assert.Equal(t, "bootstrap", p["Handler"])
	assert.Equal(t, []any{"arm64"}, p["Architectures"])
	assert.Equal(t, FunctionTimeoutSeconds, p["Timeout"])
	assert.NotContains(t, p, "VpcConfig", "the function must not sit on the failing site")
	assert.Equal(t, ReservedConcurrency, p["ReservedConcurrentExecutions"], "other functions must not starve the failover of concurrency")
	assert.Equal(t, []any{"Key", "Arn"}, getAttOf(p["KmsKeyArn"]), "the environment is encrypted with the stack's key")
	skips := checkovSkips(t, fn)
	assert.Equal(t, []string{"CKV_AWS_116", "CKV_AWS_117"}, skips, "only the on-failure destination and the VPC are deliberate exceptions")
	assert.Equal(t, map[string]any{"S3Bucket": map[string]any{"Ref": pBucket}, "S3Key": map[string]any{"Ref": pKey}}, p["Code"])
	assert.Equal(t, "LogGroup", refOf(p["LoggingConfig"].(map[string]any)["LogGroup"]))

	env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	var keys []string
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{
		"OHA_CONNECTED_ALARM", "OHA_DETECTION_PERIODS", "OHA_DLQ_URL", "OHA_FENCE_TIMEOUT_SECONDS", "OHA_POLICY",
		"OHA_PRIMARY_OUTPOST_ID", "OHA_RECOVERY_TEMPLATE", "OHA_SECONDARY_OUTPOST_ID", "OHA_STATUS_ALARM", "OHA_TOPIC_ARN", "OHA_WORKLOAD",
	}, keys, "exactly the contract's environment")
	assert.Equal(t, "DeadLetterQueue", refOf(env["OHA_DLQ_URL"]), "Ref of an AWS::SQS::Queue is its URL")
	assert.Equal(t, pSecondOP, refOf(env["OHA_SECONDARY_OUTPOST_ID"]))
	assert.Equal(t, w, env["OHA_WORKLOAD"])
	assert.Equal(t, pPolicy, refOf(env["OHA_POLICY"]))
	assert.Equal(t, "AlertsTopic", refOf(env["OHA_TOPIC_ARN"]))
	assert.Equal(t, StatusAlarmName(w), env["OHA_STATUS_ALARM"])
	assert.Equal(t, map[string]any{"Fn::If": []any{cHasPrimaryOP, ConnectedAlarmName(w), ""}}, env["OHA_CONNECTED_ALARM"])
	assert.Equal(t, pPrimaryOP, refOf(env["OHA_PRIMARY_OUTPOST_ID"]))
	assert.Equal(t, "lt-web01-recovery", env["OHA_RECOVERY_TEMPLATE"])
	assert.Equal(t, pPeriods, refOf(env["OHA_DETECTION_PERIODS"]))
	assert.Equal(t, pFence, refOf(env["OHA_FENCE_TIMEOUT_SECONDS"]))

	_, aic := tp.only(t, "AWS::Lambda::EventInvokeConfig")
	assert.Equal(t, id, refOf(aic.Properties["FunctionName"]))
	assert.Equal(t, 2, aic.Properties["MaximumRetryAttempts"])
	assert.Equal(t, 3600, aic.Properties["MaximumEventAgeInSeconds"])
	dest := aic.Properties["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"]
	assert.Equal(t, []any{"DeadLetterQueue", "Arn"}, getAttOf(dest))

	_, q := tp.only(t, "AWS::SQS::Queue")
	assert.Equal(t, DLQName(w), q.Properties["QueueName"])
	assert.Equal(t, "Key", refOf(q.Properties["KmsMasterKeyId"]))

	_, lg := tp.only(t, "AWS::Logs::LogGroup")
	assert.Equal(t, LogGroupName(w), lg.Properties["LogGroupName"])
	assert.Equal(t, []any{"Key", "Arn"}, getAttOf(lg.Properties["KmsKeyId"]), "the log group is encrypted with the stack's key")
	assert.Equal(t, LogRetentionDays, lg.Properties["RetentionInDays"])

	// The topic invokes the function, and only that topic may.
	_, perm := tp.only(t, "AWS::Lambda::Permission")
	assert.Equal(t, "sns.amazonaws.com", perm.Properties["Principal"])
	assert.Equal(t, "AlertsTopic", refOf(perm.Properties["SourceArn"]))
	assert.Equal(t, id, refOf(perm.Properties["FunctionName"]))

	subs := map[string]any{}
	for _, r := range tp.Resources {
		if r.Type == "AWS::SNS::Subscription" {
			assert.Equal(t, "AlertsTopic", refOf(r.Properties["TopicArn"]))
			subs[r.Properties["Protocol"].(string)] = r.Properties["Endpoint"]
		}
	}
	assert.Equal(t, map[string]any{
		"email":  map[string]any{"Ref": pEmail},
		"lambda": map[string]any{"Fn::GetAtt": []any{id, "Arn"}},
	}, subs)
}

func TestTemplateEncryption(t *testing.T) {
	w := "web01"
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	keyID, key := tp.only(t, "AWS::KMS::Key")
	assert.Equal(t, true, key.Properties["EnableKeyRotation"])
	_, topic := tp.only(t, "AWS::SNS::Topic")
	assert.Equal(t, keyID, refOf(topic.Properties["KmsMasterKeyId"]))

	doc := key.Properties["KeyPolicy"].(map[string]any)
	services := map[string][]any{}
	conds := map[string]any{}
	for _, s := range doc["Statement"].([]any) {
		st := s.(map[string]any)
		assert.Equal(t, "Allow", st["Effect"])
		pr := st["Principal"].(map[string]any)
		assert.NotEqual(t, "*", pr["AWS"], "no key grant to everyone")
		svc, ok := pr["Service"].(string)
		if sv, isSub := pr["Service"].(map[string]any); isSub {
			svc, ok = sv["Fn::Sub"].(string), true
		}
		if ok {
			services[svc] = st["Action"].([]any)
			conds[svc] = st["Condition"]
		}
	}
	assert.Equal(t, map[string][]any{
		"cloudwatch.amazonaws.com":              {"kms:Decrypt", "kms:GenerateDataKey*"},
		"sns.amazonaws.com":                     {"kms:Decrypt", "kms:GenerateDataKey*"},
		"logs.${AWS::Region}.${AWS::URLSuffix}": {"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
	}, services)
	// Every service principal is held to this workload's resources.
	alarmArn := func(name string) any {
		return map[string]any{"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + name}
	}
	assert.Equal(t, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
		"ArnEquals": map[string]any{"aws:SourceArn": []any{alarmArn(StatusAlarmName(w)), alarmArn(ConnectedAlarmName(w)),
			alarmArn(DLQAlarmName(w)), alarmArn(DLQMissingAlarmName(w))}},
	}, conds["cloudwatch.amazonaws.com"], "CloudWatch may use the key only for this workload's alarms")
	assert.Equal(t, map[string]any{
		"ArnEquals": map[string]any{"kms:EncryptionContext:aws:logs:arn": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + LogGroupName(w)}},
	}, conds["logs.${AWS::Region}.${AWS::URLSuffix}"], "CloudWatch Logs may use the key only for the function's log group")
	// Every alarm in the template is named in the CloudWatch condition.
	names := map[string]bool{}
	for _, r := range tp.Resources {
		if r.Type == "AWS::CloudWatch::Alarm" {
			names[r.Properties["AlarmName"].(string)] = true
		}
	}
	assert.Len(t, names, 4)
	for n := range names {
		assert.Contains(t, conds["cloudwatch.amazonaws.com"].(map[string]any)["ArnEquals"].(map[string]any)["aws:SourceArn"], alarmArn(n))
	}
}

// checkovSkips returns the check IDs a resource suppresses in its Metadata,
// failing on a skip without a reason.
func checkovSkips(t *testing.T, r parsedResource) []string {
	t.Helper()
	ck, _ := r.Metadata["checkov"].(map[string]any)
	var ids []string
	for _, s := range asList(ck["skip"]) {
		sk := s.(map[string]any)
		c, _ := sk["comment"].(string)
		assert.Greater(t, len(c), 20, "checkov skip %v needs its reason", sk["id"])
		ids = append(ids, sk["id"].(string))
	}
	sort.Strings(ids)
	return ids
}

// Issue 8 §3: an ALARM raised while the stack is being created must not be
// lost, so both detection alarms wait for the function's subscription, its
// invoke permission, its failure destination and (through the handle) the
// launch policy.
func TestDetectionAlarmsWaitForTheFunctionPath(t *testing.T) {
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	want := []string{"FunctionSubscription", "TopicInvokesFunction", "FunctionAsyncConfig", "LaunchPolicyReady"}
	for _, id := range []string{"StatusAlarm", "ConnectedAlarm"} {
		assert.Equal(t, want, tp.Resources[id].DependsOn, id)
		for _, d := range tp.Resources[id].DependsOn {
			_, ok := tp.Resources[d]
			assert.True(t, ok, "%s depends on missing %s", id, d)
			assert.Empty(t, tp.Resources[d].Condition, "%s: DependsOn must not name a conditional resource (%s)", id, d)
		}
	}
	h := tp.Resources["LaunchPolicyReady"]
	assert.Equal(t, "AWS::CloudFormation::WaitConditionHandle", h.Type)
	assert.Equal(t, map[string]any{"LaunchPolicy": map[string]any{"Fn::If": []any{cCanLaunch, map[string]any{"Ref": "LaunchPolicy"}, ""}}}, h.Metadata,
		"the handle references the launch policy exactly when it exists")
}

// Issue 8 §3: SQS may delete an idle queue after 30 days; a schedule keeps it
// active and an alarm notices it missing.
func TestDeadLetterQueueKeptAliveAndWatched(t *testing.T) {
	w := "web01"
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	a := tp.Resources["DeadLetterMissingAlarm"].Properties
	assert.Equal(t, DLQMissingAlarmName(w), a["AlarmName"])
	assert.Equal(t, "AWS/SQS", a["Namespace"])
	assert.Equal(t, "SampleCount", a["Statistic"])
	assert.Equal(t, "breaching", a["TreatMissingData"], "a deleted queue publishes nothing")
	assert.Equal(t, "LessThanOrEqualToThreshold", a["ComparisonOperator"])
	assert.Equal(t, 0, a["Threshold"])
	assert.Equal(t, 24*3600, a["Period"].(int)*a["EvaluationPeriods"].(int), "a whole day without data")
	assert.Equal(t, a["EvaluationPeriods"], a["DatapointsToAlarm"])
	assert.LessOrEqual(t, KeepAliveHours*3600+6*3600, a["Period"].(int)*a["EvaluationPeriods"].(int),
		"a live queue is active for 6 h after each keep-alive, so every day-long window sees data")
	assert.Equal(t, []any{map[string]any{"Ref": "AlertsTopic"}}, a["AlarmActions"])

	s := tp.Resources["DeadLetterKeepAlive"]
	assert.Equal(t, "AWS::Scheduler::Schedule", s.Type)
	assert.Equal(t, "rate(12 hours)", s.Properties["ScheduleExpression"])
	tg := s.Properties["Target"].(map[string]any)
	assert.Equal(t, map[string]any{"Fn::Sub": "arn:${AWS::Partition}:scheduler:::aws-sdk:sqs:getQueueAttributes"}, tg["Arn"])
	assert.Equal(t, []any{"KeepAliveRole", "Arn"}, getAttOf(tg["RoleArn"]))
	var in map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(tg["Input"].(map[string]any)["Fn::Sub"].(string), "${DeadLetterQueue}", "https://q")), &in))
	assert.Equal(t, "https://q", in["QueueUrl"])
	role := tp.Resources["KeepAliveRole"].Properties
	assert.Equal(t, map[string]any{"Fn::Sub": "oha-web01-${AWS::Region}-dlqping"}, role["RoleName"])
	trust := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"Service": "scheduler.amazonaws.com"}, trust["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}}, trust["Condition"])
}

// Every role the stack creates carries the boundary the service role insists on.
func TestStackRolesCarryTheBoundary(t *testing.T) {
	for _, gc := range goldenConfigs {
		tp := parseTemplate(t, mustRender(t, gc.cfg).Template)
		n := 0
		for id, r := range tp.Resources {
			if r.Type == "AWS::IAM::Role" {
				n++
				assert.Equal(t, map[string]any{"Fn::Sub": boundaryArnSub(gc.cfg.Workload)}, r.Properties["PermissionsBoundary"], id)
			}
		}
		assert.Equal(t, 2, n)
	}
}

// ---- IAM: every statement scoped to the workload wherever the API allows ----

// starOnly lists the actions that have no resource-level permissions and so
// may (must) use Resource "*".
var starOnly = map[string]bool{
	"ec2:DescribeInstances":              true,
	"ec2:DescribeInstanceStatus":         true,
	"ec2:DescribeLaunchTemplateVersions": true,
	"ec2:DescribeSubnets":                true,
	"cloudwatch:GetMetricData":           true,
}

// unscopedLaunchResources are the resource types RunInstances must be allowed
// on without a workload condition: which subnet, security group, AMI, key
// pair, volumes and interfaces are used is fixed by the workload's launch
// template, whose use LaunchFromWorkloadTemplate and LaunchInstanceFromTemplate
// pin. (An IAM condition that ties them to the template cannot be checked
// here and could break the one call failover exists for.)
var unscopedLaunchResources = map[string]bool{
	"subnet/*": true, "security-group/*": true, "network-interface/*": true,
	"volume/*": true, "key-pair/*": true, "image/*": true,
}

// wantActions is everything the function's roles may do: a new action must be
// added here on purpose, with the reason.
var wantActions = []string{
	"cloudwatch:DescribeAlarms",
	"cloudwatch:GetMetricData",
	"cloudwatch:SetAlarmState", // re-arm an alarm still in ALARM after a run with no action (CONTRACT.md)
	"ec2:CreateTags",
	"ec2:DescribeInstanceStatus",
	"ec2:DescribeInstances",
	"ec2:DescribeLaunchTemplateVersions",
	"ec2:DescribeSubnets", // drill: the recovery subnet has EnableLniAtDeviceIndex=1 (CONTRACT.md)
	"ec2:RunInstances",
	"ec2:StopInstances",
	"ec2:TerminateInstances", // terminate the fenced primary once the recovery instance runs, or a recovery instance that died (CONTRACT.md)
	"iam:PassRole",
	"kms:Decrypt",
	"kms:GenerateDataKey",
	"logs:CreateLogStream",
	"logs:PutLogEvents",
	"sns:ListSubscriptionsByTopic",
	"sns:Publish",
	"sqs:GetQueueAttributes", // drill: the DLQ exists; the keep-alive schedule's only action (CONTRACT.md, issue 8 §3)
	"sqs:SendMessage",
	"ssm:GetParameter",
	"ssm:PutParameter",
}

// wantDenied is what the roles explicitly deny: starting a fenced instance.
var wantDenied = []string{"ec2:StartInstances"}

// iamProblems returns every statement resource that is not scoped to workload
// w, and the set of actions granted.
func iamProblems(tp parsedTemplate, w string) (problems []string, actions []string) {
	problems, actions, _ = iamProblemsDenied(tp, w)
	return problems, actions
}

// iamProblemsDenied is iamProblems that also returns the denied actions. The
// only Deny allowed is DenyStartFenced's exact shape.
func iamProblemsDenied(tp parsedTemplate, w string) (problems []string, actions []string, denied []string) {
	seen := map[string]bool{}
	deniedSeen := map[string]bool{}
	workloadParams := []string{"${" + pRole + "}", "${" + pPrimaryOP + "}"}
	for id, r := range tp.Resources {
		var docs []any
		switch r.Type {
		case "AWS::IAM::Role":
			for _, p := range asList(r.Properties["Policies"]) {
				docs = append(docs, p.(map[string]any)["PolicyDocument"])
			}
			if _, ok := r.Properties["ManagedPolicyArns"]; ok {
				problems = append(problems, id+": managed policies are not scoped to the workload")
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs = append(docs, r.Properties["PolicyDocument"])
		}
		for _, d := range docs {
			for _, s := range asList(d.(map[string]any)["Statement"]) {
				st := s.(map[string]any)
				sid, _ := st["Sid"].(string)
				where := id + "/" + sid
				if st["Effect"] == "Deny" {
					want := map[string]any{"Sid": "DenyStartFenced", "Effect": "Deny", "Action": []any{"ec2:StartInstances"},
						"Resource":  []any{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"}},
						"Condition": map[string]any{"StringEquals": map[string]any{"ec2:ResourceTag/outposts-ha:fenced": "true"}}}
					if !reflect.DeepEqual(want, st) {
						problems = append(problems, where+": the only Deny expected is DenyStartFenced")
					}
					for _, a := range asList(st["Action"]) {
						deniedSeen[a.(string)] = true
					}
					continue
				}
				if st["Effect"] != "Allow" {
					problems = append(problems, where+": only Allow statements expected")
				}
				for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
					if _, ok := st[k]; ok {
						problems = append(problems, where+": "+k+" is not allowed")
					}
				}
				var acts []string
				for _, a := range asList(st["Action"]) {
					as := a.(string)
					acts = append(acts, as)
					seen[as] = true
					if strings.Contains(as, "*") {
						problems = append(problems, where+": wildcard action "+as)
					}
				}
				cond, _ := st["Condition"].(map[string]any)
				for _, res := range asList(st["Resource"]) {
					if p := resourceProblem(tp, w, workloadParams, acts, res, cond); p != "" {
						problems = append(problems, where+": "+p)
					}
				}
			}
		}
	}
	for a := range seen {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for a := range deniedSeen {
		denied = append(denied, a)
	}
	sort.Strings(denied)
	return problems, actions, denied
}

func resourceProblem(tp parsedTemplate, w string, workloadParams, acts []string, res any, cond map[string]any) string {
	if s, ok := res.(string); ok {
		if s != "*" {
			return "literal resource " + s + " (use Fn::Sub with the stack's partition, Region and account)"
		}
		for _, a := range acts {
			if !starOnly[a] {
				return a + " on * although it supports resource-level permissions"
			}
		}
		return ""
	}
	if r := refOf(res); r != "" {
		if _, ok := tp.Resources[r]; ok {
			return "" // a resource of this workload's stack
		}
		return "Ref to " + r + ", not a resource of this stack"
	}
	if ga := getAttOf(res); len(ga) > 0 {
		if _, ok := tp.Resources[ga[0].(string)]; ok {
			return ""
		}
		return "GetAtt of a resource outside this stack"
	}
	mm, ok := res.(map[string]any)
	if !ok {
		return "unexpected resource form"
	}
	s, ok := mm["Fn::Sub"].(string)
	if !ok {
		return "unexpected intrinsic"
	}
	if !strings.HasPrefix(s, "arn:${AWS::Partition}:") {
		return s + ": ARN without ${AWS::Partition}"
	}
	if strings.Contains(s, ":oha-"+w+"-") || strings.Contains(s, "/oha-"+w+"-") || strings.Contains(s, "/outposts-ha/"+w+"/") {
		return ""
	}
	for _, p := range workloadParams {
		if strings.HasSuffix(s, "/"+p) {
			return ""
		}
	}
	tail := s[strings.LastIndex(s, ":")+1:]
	if !strings.HasSuffix(tail, "/*") {
		return s + ": not scoped to workload " + w
	}
	if pinned(cond, w) {
		return ""
	}
	for _, a := range acts {
		if a != "ec2:RunInstances" || !unscopedLaunchResources[tail] {
			return s + ": wildcard for " + a + " without a workload condition"
		}
	}
	return ""
}

// pinned reports a condition that restricts a type-wide wildcard to this
// workload: its tag, creation by RunInstances, or use of a launch template.
func pinned(cond map[string]any, w string) bool {
	se, _ := cond["StringEquals"].(map[string]any)
	if se["aws:ResourceTag/"+naming.TagWorkload] == w || se["ec2:CreateAction"] == "RunInstances" {
		return true
	}
	al, _ := cond["ArnLike"].(map[string]any)
	if lt, ok := al["ec2:LaunchTemplate"].(map[string]any); ok {
		s, _ := lt["Fn::Sub"].(string)
		return strings.HasSuffix(s, ":launch-template/*")
	}
	return false
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	default:
		return []any{x}
	}
}

func TestIAMScopedToWorkload(t *testing.T) {
	for _, gc := range goldenConfigs {
		t.Run(gc.name, func(t *testing.T) {
			tp := parseTemplate(t, mustRender(t, gc.cfg).Template)
			problems, actions, denied := iamProblemsDenied(tp, gc.cfg.Workload)
			assert.Empty(t, problems)
			assert.Equal(t, wantActions, actions)
			assert.Equal(t, wantDenied, denied)
		})
	}
}

// The checker above must be able to fail: feed it what the reference stacks did.
func TestIAMCheckerCatchesBroadGrants(t *testing.T) {
	w := "web01"
	bad := []map[string]any{
		{"Sid": "Star", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"},
		{"Sid": "Wild", "Effect": "Allow", "Action": "ssm:*", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/outposts-ha/web01/*"}},
		{"Sid": "AllParams", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"}},
		{"Sid": "OtherWorkload", "Effect": "Allow", "Action": "sns:Publish", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:oha-web012-alerts"}},
		{"Sid": "Stop", "Effect": "Allow", "Action": "ec2:StopInstances", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"}},
		{"Sid": "OtherTag", "Effect": "Allow", "Action": "ec2:StopInstances", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/outposts-ha:workload": "db01"}}},
		{"Sid": "AnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}},
		{"Sid": "HardPartition", "Effect": "Allow", "Action": "sns:Publish", "Resource": map[string]any{"Fn::Sub": "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:oha-web01-alerts"}},
		{"Sid": "NotRes", "Effect": "Allow", "Action": "sns:Publish", "NotResource": "x", "Resource": map[string]any{"Ref": "AlertsTopic"}},
		{"Sid": "Foreign", "Effect": "Allow", "Action": "sns:Publish", "Resource": map[string]any{"Ref": "SomeParam"}},
	}
	for _, b := range bad {
		t.Run(b["Sid"].(string), func(t *testing.T) {
			tp := parsedTemplate{Resources: map[string]parsedResource{
				"AlertsTopic": {Type: "AWS::SNS::Topic"},
				"P": {Type: "AWS::IAM::Policy", Properties: map[string]any{
					"PolicyDocument": map[string]any{"Statement": []any{b}},
				}},
			}}
			// Round-trip through YAML so the shapes are the parser's.
			y, err := yaml.Marshal(tp.Resources["P"].Properties)
			require.NoError(t, err)
			var props map[string]any
			require.NoError(t, yaml.Unmarshal(y, &props))
			tp.Resources["P"] = parsedResource{Type: "AWS::IAM::Policy", Properties: props}
			problems, _ := iamProblems(tp, w)
			assert.NotEmpty(t, problems)
		})
	}
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	problems, _ := iamProblems(tp, "db01") // the right template, checked against another workload
	assert.NotEmpty(t, problems)
}

func TestIAMLaunchGrants(t *testing.T) {
	w := "web01"
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)

	launch := tp.Resources["LaunchPolicy"]
	assert.Equal(t, cCanLaunch, launch.Condition, "notify must not be able to launch")
	assert.Equal(t, map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": pPolicy}, "notify"}}}}, tp.Conditions[cCanLaunch])

	var pass []map[string]any
	for _, s := range asList(launch.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
		st := s.(map[string]any)
		for _, a := range asList(st["Action"]) {
			if a == "iam:PassRole" {
				pass = append(pass, st)
			}
		}
	}
	require.Len(t, pass, 1, "iam:PassRole exactly once (the reference stacks had none)")
	assert.Equal(t, []any{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${" + pRole + "}"}}, pass[0]["Resource"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}, pass[0]["Condition"])

	// Launch, PassRole and tag-on-create live only in the conditional policy.
	base := tp.Resources["FunctionRole"].Properties["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
	for _, s := range asList(base["Statement"]) {
		for _, a := range asList(s.(map[string]any)["Action"]) {
			assert.NotContains(t, []string{"ec2:RunInstances", "iam:PassRole", "ec2:CreateTags"}, a)
		}
	}
	trust := tp.Resources["FunctionRole"].Properties["AssumeRolePolicyDocument"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}, trust["Statement"])
	assert.Equal(t, map[string]any{"Fn::Sub": "oha-" + w + "-${AWS::Region}-failover"}, tp.Resources["FunctionRole"].Properties["RoleName"])

	// The function reads Outpost connectivity through CloudWatch only.
	assert.NotContains(t, tp.Resources, "PrimaryOutpostPolicy")
}

// The reference stacks' other traps, as plain text checks.
func TestTemplateAvoidsReferenceTraps(t *testing.T) {
	for _, gc := range goldenConfigs {
		s := string(mustRender(t, gc.cfg).Template)
		for _, bad := range []string{"python", "VpcConfig", "AWSLambdaVPCAccessExecutionRole", "SecurityGroup", "arn:aws:"} {
			assert.NotContains(t, s, bad, gc.name)
		}
	}
}

// FuzzRender: whatever the operator types, Render either refuses it or
// returns the same template as for a plain config with that workload name
// (so nothing typed reaches the YAML), and the raw values as parameters.
// Short runs: go test ./recovery/stack -run '^$' -fuzz FuzzRender -fuzztime 20s
func FuzzRender(f *testing.F) {
	f.Add("web01", "ops@example.com", "web01-instance", "op-0123456789abcdef0", "i-0123456789abcdef0")
	f.Add("db-1", "a+b@x.example", "team/role", "", "")
	f.Add("web01\nResources:", "x@y.z\n", "${AWS::AccountId}", "op-'", "i-\"")
	f.Fuzz(func(t *testing.T, w, email, role, outpost, instance string) {
		c := Config{Workload: w, Region: "us-west-2", NotificationEmail: email, InstanceProfileRole: role,
			PrimaryOutpostID: outpost, PrimaryInstanceID: instance}
		r, err := Render(c)
		if err != nil {
			return
		}
		plain, err := Render(Config{Workload: w, Region: "us-west-2", NotificationEmail: "ops@example.com", InstanceProfileRole: "r"})
		require.NoError(t, err)
		require.Equal(t, string(plain.Template), string(r.Template))
		p := paramMap(r)
		require.Equal(t, email, p[pEmail])
		require.Equal(t, role, p[pRole])
		require.Equal(t, outpost, p[pPrimaryOP])
		var v map[string]any
		require.NoError(t, yaml.Unmarshal(r.Template, &v))
	})
}

// CONTRACT.md: what the failover function newly calls, granted exactly.
func TestFunctionRoleContractGrants(t *testing.T) {
	w := "web01"
	tp := parseTemplate(t, mustRender(t, goldenConfigs[0].cfg).Template)
	bySid := map[string]map[string]any{}
	base := tp.Resources["FunctionRole"].Properties["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
	for _, d := range []map[string]any{base, tp.Resources["LaunchPolicy"].Properties["PolicyDocument"].(map[string]any)} {
		for _, s := range asList(d["Statement"]) {
			st := s.(map[string]any)
			bySid[st["Sid"].(string)] = st
		}
	}
	sub := func(s string) map[string]any { return map[string]any{"Fn::Sub": s} }
	alarms := []any{sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + StatusAlarmName(w)),
		sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + ConnectedAlarmName(w))}
	assert.Equal(t, []any{"cloudwatch:SetAlarmState"}, bySid["RearmWorkloadAlarms"]["Action"])
	assert.Equal(t, alarms, bySid["RearmWorkloadAlarms"]["Resource"], "only the two detection alarms")
	assert.Contains(t, bySid["DescribeInstances"]["Action"], "ec2:DescribeSubnets")
	assert.Equal(t, []any{"sqs:SendMessage", "sqs:GetQueueAttributes"}, bySid["DeadLetter"]["Action"])
	assert.Equal(t, []any{map[string]any{"Fn::GetAtt": []any{"DeadLetterQueue", "Arn"}}}, bySid["DeadLetter"]["Resource"])

	instances := []any{sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*")}
	workload := map[string]any{"aws:ResourceTag/outposts-ha:workload": w}
	assert.Equal(t, []any{"ec2:StopInstances", "ec2:TerminateInstances"}, bySid["FenceWorkloadInstances"]["Action"])
	assert.Equal(t, map[string]any{"StringEquals": workload}, bySid["FenceWorkloadInstances"]["Condition"])
	mark := bySid["MarkWorkloadInstanceFenced"]
	assert.Equal(t, []any{"ec2:CreateTags"}, mark["Action"])
	assert.Equal(t, instances, mark["Resource"])
	assert.Equal(t, map[string]any{
		"StringEquals":              workload,
		"Null":                      map[string]any{"ec2:CreateAction": "true"},
		"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"outposts-ha:fenced"}},
	}, mark["Condition"])

	// The Deny lives in the role's own policy, so notify has it too.
	deny := bySid["DenyStartFenced"]
	require.NotNil(t, deny)
	assert.Contains(t, asList(base["Statement"]), any(deny))
	assert.Equal(t, "Deny", deny["Effect"])
	assert.Equal(t, instances, deny["Resource"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"ec2:ResourceTag/" + tagFenced: "true"}}, deny["Condition"])
}
