// Package recordtest holds an in-memory Parameter Store for unit tests of the
// record store and the step runner. It is a fake: it keeps versions, answers
// ParameterAlreadyExists / ParameterNotFound / ParameterVersionNotFound with
// those codes, refuses Overwrite together with Tags and values over the tier
// limit (as the PutParameter API reference says Parameter Store does), and
// lets a test inject errors and interleavings.
package recordtest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// SSM is the fake. The zero value is ready.
type SSM struct {
	mu     sync.Mutex
	params map[string][]version
	tags   map[string]map[string]string
	// Before, when set, runs before every call (op is "Get", "Put" or
	// "Delete") without the lock held; an error it returns is the call's.
	// Tests use it to inject failures and concurrent writes.
	Before func(op, name string) error
	calls  int
}

type version struct {
	value string
	tier  ssmtypes.ParameterTier
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func (f *SSM) before(op, name string) error {
	f.mu.Lock()
	f.calls++
	hook := f.Before
	f.mu.Unlock()
	if hook != nil {
		return hook(op, name)
	}
	return nil
}

// Calls returns the number of calls made.
func (f *SSM) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// GetParameter returns the latest version, or the one a ":N" selector names.
func (f *SSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.before("Get", name); err != nil {
		return nil, err
	}
	want := int64(0)
	if i := strings.LastIndex(name, ":"); i > 0 {
		n, err := strconv.ParseInt(name[i+1:], 10, 64)
		if err != nil {
			return nil, apiErr("ValidationException", "labels are not supported by the fake")
		}
		name, want = name[:i], n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.params[name]
	if len(vs) == 0 {
		return nil, apiErr("ParameterNotFound", "parameter "+name+" not found")
	}
	v := int64(len(vs))
	if want != 0 {
		if want > v || want < 1 {
			return nil, apiErr("ParameterVersionNotFound", fmt.Sprintf("version %d of %s not found", want, name))
		}
		v = want
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{
		Name: aws.String(name), Value: aws.String(vs[v-1].value), Version: v, Type: ssmtypes.ParameterTypeString,
	}}, nil
}

// PutParameter creates or overwrites a parameter.
func (f *SSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.before("Put", name); err != nil {
		return nil, err
	}
	value := aws.ToString(in.Value)
	overwrite := aws.ToBool(in.Overwrite)
	if value == "" {
		return nil, apiErr("ValidationException", "value is empty")
	}
	if overwrite && len(in.Tags) > 0 {
		return nil, apiErr("ValidationException", "tags and overwrite can't be used together")
	}
	limit := 4096
	if in.Tier == ssmtypes.ParameterTierAdvanced || in.Tier == ssmtypes.ParameterTierIntelligentTiering {
		limit = 8192
	}
	if len(value) > limit {
		return nil, apiErr("ValidationException", fmt.Sprintf("value is %d bytes, tier %q holds %d", len(value), in.Tier, limit))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.params == nil {
		f.params = map[string][]version{}
		f.tags = map[string]map[string]string{}
	}
	vs := f.params[name]
	if len(vs) > 0 && !overwrite {
		return nil, apiErr("ParameterAlreadyExists", "parameter "+name+" already exists")
	}
	tier := in.Tier
	if tier == ssmtypes.ParameterTierIntelligentTiering {
		tier = ssmtypes.ParameterTierStandard
		if len(value) > 4096 {
			tier = ssmtypes.ParameterTierAdvanced
		}
	}
	if len(vs) > 0 && vs[len(vs)-1].tier == ssmtypes.ParameterTierAdvanced {
		if in.Tier == ssmtypes.ParameterTierStandard {
			return nil, apiErr("ValidationException", "an advanced parameter can't be reverted to standard")
		}
		tier = ssmtypes.ParameterTierAdvanced
	}
	f.params[name] = append(vs, version{value: value, tier: tier})
	if len(in.Tags) > 0 {
		m := map[string]string{}
		for _, t := range in.Tags {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		f.tags[name] = m
	}
	return &ssm.PutParameterOutput{Version: int64(len(f.params[name])), Tier: tier}, nil
}

// DeleteParameter removes a parameter and its history.
func (f *SSM) DeleteParameter(_ context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	name := aws.ToString(in.Name)
	if err := f.before("Delete", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.params[name]) == 0 {
		return nil, apiErr("ParameterNotFound", "parameter "+name+" not found")
	}
	delete(f.params, name)
	delete(f.tags, name)
	return &ssm.DeleteParameterOutput{}, nil
}

// Names lists the parameters that exist, sorted.
func (f *SSM) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n, vs := range f.params {
		if len(vs) > 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Value returns the latest value of a parameter ("" when absent).
func (f *SSM) Value(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.params[name]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1].value
}

// Tier returns the tier the latest version is stored in.
func (f *SSM) Tier(name string) ssmtypes.ParameterTier {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.params[name]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1].tier
}

// Tags returns the tags a parameter was created with.
func (f *SSM) Tags(name string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tags[name]
}

// Set writes a raw value as a new version, bypassing every check (a test
// plants a value another machine or an older binary wrote).
func (f *SSM) Set(name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.params == nil {
		f.params = map[string][]version{}
		f.tags = map[string]map[string]string{}
	}
	f.params[name] = append(f.params[name], version{value: value, tier: ssmtypes.ParameterTierStandard})
}
