// Package awsxtest holds test helpers shared by packages that call AWS. Calls
// counts the API calls the real SDK clients make (it sits in the SDK's
// middleware stack, so it sees exactly what goes to the emulator) and tells
// read-only calls from calls that change state.
package awsxtest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

// Call is one API call as the SDK made it (retries of one call count once).
type Call struct {
	Service   string // SDK service ID: EC2, SSM, SNS, CloudWatch, ...
	Operation string // DescribeInstances, PutParameter, ...
	DryRun    bool   // the input carried DryRun=true
	ErrCode   string // AWS error code, "" on success
}

// String is Service.Operation, with " (DryRun)" when set.
func (c Call) String() string {
	s := c.Service + "." + c.Operation
	if c.DryRun {
		s += " (DryRun)"
	}
	return s
}

// ReadOnly reports whether the operation only reads (Describe*, Get*, List*),
// or was sent with DryRun=true.
func (c Call) ReadOnly() bool {
	if c.DryRun {
		return true
	}
	for _, p := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(c.Operation, p) {
			return true
		}
	}
	return false
}

// Calls records API calls. The zero value is ready; it is safe for concurrent use.
type Calls struct {
	mu    sync.Mutex
	calls []Call
}

// Instrument adds the recorder to every client later built from cfg.
func (c *Calls) Instrument(cfg *aws.Config) {
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("awsxtest.Calls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				c.add(Call{
					Service:   awsmiddleware.GetServiceID(ctx),
					Operation: awsmiddleware.GetOperationName(ctx),
					DryRun:    dryRun(in.Parameters),
					ErrCode:   awsx.Code(err),
				})
				return out, md, err
			}), middleware.After)
	})
}

func (c *Calls) add(call Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

// List returns the calls so far, in order.
func (c *Calls) List() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Reset forgets every call.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// Len is the number of calls.
func (c *Calls) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// Count is the number of calls of one operation ("RunInstances"), DryRun
// calls excluded.
func (c *Calls) Count(operation string) int {
	n := 0
	for _, call := range c.List() {
		if call.Operation == operation && !call.DryRun {
			n++
		}
	}
	return n
}

// Mutating lists the calls that may change state.
func (c *Calls) Mutating() []string {
	var out []string
	for _, call := range c.List() {
		if !call.ReadOnly() {
			out = append(out, call.String())
		}
	}
	return out
}

// Summary is "Service.Operation xN" per operation, sorted, for failure messages.
func (c *Calls) Summary() []string {
	n := map[string]int{}
	for _, call := range c.List() {
		n[call.String()]++
	}
	var out []string
	for k, v := range n {
		out = append(out, fmt.Sprintf("%s x%d", k, v))
	}
	slices.Sort(out)
	return out
}

func dryRun(params any) bool {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	f := v.Elem().FieldByName("DryRun")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.Bool {
		return false
	}
	return f.Elem().Bool()
}
