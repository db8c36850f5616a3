package awsxtest

// The AWS contract check. moto accepts requests that real AWS refuses (an SNS
// message attribute named "outposts-ha:source", tags with the "aws:" prefix,
// an SSM PutParameter with both Overwrite and Tags, ...), so a test tier that
// only talks to moto can pass while the code fails on a real account. Strict
// puts a validator in front of every SDK client built from a config: it reads
// the operation's typed input (middleware.InitializeInput.Parameters, so it
// does not matter whether the client speaks JSON, query, XML or CBOR), checks
// it against the rules AWS documents for that call, and fails the request, and
// the test, when one is broken. Each rule carries the page it comes from.
//
// The rules live in rules_*.go, one file per service; policy.go holds the IAM
// policy grammar and template.go the checks on CloudFormation templates.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

// Violation is one broken rule in one request.
type Violation struct {
	Rule   string // stable rule id, e.g. "sns.attribute-name"
	Field  string // where in the input, e.g. `MessageAttributes["outposts-ha:source"]`
	Detail string // what is wrong, in words
	Doc    string // the AWS page the rule comes from
	Code   string // the error code real AWS answers with (best knowledge)
}

func (v Violation) String() string {
	s := v.Rule + ": " + v.Field + ": " + v.Detail
	if v.Doc != "" {
		s += " (see " + v.Doc + ")"
	}
	return s
}

// ContractError is what a request that breaks a rule fails with. It is a
// smithy.APIError carrying the error code real AWS answers such a request
// with, so code that classifies errors by code (awsx.Code, IsNotFound, ...)
// sees what it would see on AWS.
type ContractError struct {
	Service, Operation string
	Violations         []Violation
}

func (e *ContractError) Error() string {
	return fmt.Sprintf("api error %s: %s", e.ErrorCode(), e.ErrorMessage())
}

// ErrorCode is the first violation's AWS error code.
func (e *ContractError) ErrorCode() string {
	if len(e.Violations) > 0 && e.Violations[0].Code != "" {
		return e.Violations[0].Code
	}
	return "ValidationError"
}

// ErrorMessage names every broken rule and its page.
func (e *ContractError) ErrorMessage() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return fmt.Sprintf("AWS contract check refused %s.%s: %s", e.Service, e.Operation, strings.Join(parts, "; "))
}

// ErrorFault is always the client's.
func (e *ContractError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

var _ smithy.APIError = (*ContractError)(nil)

// env is what a rule may need beyond the input.
type env struct {
	Region string
}

// report collects violations while one input is checked.
type report struct {
	env env
	out []Violation
}

func (r *report) add(rule, field, doc, code, format string, args ...any) {
	r.out = append(r.out, Violation{Rule: rule, Field: field, Detail: fmt.Sprintf(format, args...), Doc: doc, Code: code})
}

// rules maps an SDK input type (a pointer to the struct) to its checks.
var rules = map[reflect.Type]func(any, *report){}

// register adds the checks for one input type. Every input type the project
// passes to an SDK client must be registered (TestEveryProjectCallHasRules).
func register[T any](check func(*T, *report)) {
	var zero *T
	rules[reflect.TypeOf(zero)] = func(p any, r *report) {
		if in, ok := p.(*T); ok && in != nil {
			check(in, r)
		}
	}
}

// Covered reports whether the contract check has rules for this SDK input
// (a pointer to an input struct, such as *sns.PublishInput).
func Covered(params any) bool {
	_, ok := rules[reflect.TypeOf(params)]
	return ok
}

// Check returns the violations of one request; region is the client's.
// Inputs without rules give none.
func Check(region string, params any) []Violation {
	f, ok := rules[reflect.TypeOf(params)]
	if !ok {
		return nil
	}
	r := &report{env: env{Region: region}}
	f(params, r)
	r.checkShapes(params)
	return r.out
}

type allowKey struct{}

// AllowViolations marks requests made with ctx as deliberately invalid: the
// contract check still refuses them with a ContractError, but does not fail
// the test. For tests of error handling.
func AllowViolations(ctx context.Context) context.Context {
	return context.WithValue(ctx, allowKey{}, true)
}

// testReporter fails the test for a violation; after the test ends it stays
// quiet (a late goroutine must not call t after completion).
type testReporter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
	seen []string
}

func (tr *testReporter) fail(msg string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seen = append(tr.seen, msg)
	if !tr.done {
		tr.t.Errorf("%s", msg)
	}
}

// Strict returns the SDK API option that installs the contract check; t is
// failed for every request that breaks a rule. Add it to aws.Config.APIOptions
// (Contract and LoadConfig do that).
func Strict(t testing.TB) func(*middleware.Stack) error {
	tr := &testReporter{t: t}
	t.Cleanup(func() {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.done = true
	})
	return strictWith(tr.fail)
}

func strictWith(fail func(string)) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("awsxtest.Contract",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
				allowed, _ := ctx.Value(allowKey{}).(bool)
				if v := Check(awsmiddleware.GetRegion(ctx), in.Parameters); len(v) > 0 {
					err := &ContractError{Service: service, Operation: op, Violations: v}
					if !allowed {
						fail(err.ErrorMessage())
					}
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				out, md, err := next.HandleInitialize(ctx, in)
				// EC2 DryRun: real EC2 never performs a DryRun request. The
				// DryRun member of every EC2 input (API reference, e.g.
				// https://docs.aws.amazon.com/goto/WebAPI/ec2-2016-11-15/StopInstances):
				// "Checks whether you have the required permissions for the
				// operation, without actually making the request ... If you
				// have the required permissions, the error response is
				// DryRunOperation. Otherwise, it is UnauthorizedOperation."
				if err == nil && service == "EC2" && dryRun(in.Parameters) && !allowed {
					fail(fmt.Sprintf("AWS contract check: EC2.%s with DryRun=true succeeded; real EC2 answers DryRunOperation or UnauthorizedOperation and changes nothing (rule ec2.dry-run, DryRun member of the EC2 API reference for %s)", op, op))
				}
				return out, md, err
			}), middleware.Before)
	}
}

// Contract adds the contract check to every client later built from cfg.
func Contract(cfg *aws.Config, t testing.TB) {
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), Strict(t))
}

// LoadConfig is awsx.LoadConfig (default chain, AWS_ENDPOINT_URL aware) with
// the contract check on every client built from the config:
//
//	cfg, err := awsxtest.LoadConfig(ctx, t)
func LoadConfig(ctx context.Context, t testing.TB) (aws.Config, error) {
	cfg, err := awsx.LoadConfig(ctx, awsx.Options{})
	if err != nil {
		return cfg, err
	}
	Contract(&cfg, t)
	return cfg, nil
}

// CoveredInputs lists the input types with rules, as "package.Type", sorted.
func CoveredInputs() []string {
	var out []string
	for t := range rules {
		out = append(out, t.Elem().String())
	}
	sort.Strings(out)
	return out
}
