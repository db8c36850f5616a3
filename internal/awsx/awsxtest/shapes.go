package awsxtest

// The service-model layer of the contract check. Beyond the hand-written
// rules, every member of every covered input is checked against the
// constraints of the AWS service model: the "Length Constraints", "Pattern",
// "Valid Values" and value ranges the API reference prints under each request
// parameter (the reference pages are generated from the same models). The
// constraints come from the models botocore ships (moto's venv), extracted by
// internal/shapegen into shapes.json; the doc of each violation is the
// operation's API reference page.
//
// Two deliberate limits: a pattern Go's RE2 cannot compile (look-behind) is
// skipped, and patterns are matched unanchored, as Smithy specifies.

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// ShapeConstraint is one member constraint of a service model.
type ShapeConstraint struct {
	Path    string   `json:"path"` // Go field path: A.B[] (each element), M{key} / M{} (map keys / values)
	Type    string   `json:"type"` // string, blob, list, map, integer, long
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Pattern string   `json:"pattern,omitempty"`
	Enum    []string `json:"enum,omitempty"`
}

// ShapeOp is the constraints of one operation's input.
type ShapeOp struct {
	UID         string            `json:"uid"`
	Op          string            `json:"op"`
	Constraints []ShapeConstraint `json:"constraints"`
}

//go:embed shapes.json
var shapesJSON []byte

var (
	shapesOnce sync.Once
	shapes     map[string]ShapeOp
	patterns   map[string]*regexp.Regexp // nil value: not compilable in RE2
)

// javaEscape turns \uXXXX (Java/ECMA) into \x{XXXX} (RE2).
var javaEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

func loadShapes() {
	shapes = map[string]ShapeOp{}
	patterns = map[string]*regexp.Regexp{}
	if err := json.Unmarshal(shapesJSON, &shapes); err != nil {
		panic("awsxtest: shapes.json: " + err.Error())
	}
	for _, op := range shapes {
		for _, c := range op.Constraints {
			if c.Pattern == "" {
				continue
			}
			if _, done := patterns[c.Pattern]; done {
				continue
			}
			re, err := regexp.Compile(javaEscape.ReplaceAllString(c.Pattern, `\x{$1}`))
			if err != nil {
				re = nil
			}
			patterns[c.Pattern] = re
		}
	}
}

// validationCode is each service's error code for a parameter that breaks
// its model constraints.
var validationCode = map[string]string{
	uidEC2: "InvalidParameterValue", uidSSM: "ValidationException", uidSNS: "InvalidParameter",
	uidCFN: "ValidationError", uidCW: "InvalidParameterValue", uidLambda: "InvalidParameterValueException",
	uidS3: "InvalidArgument", uidIAM: "ValidationError", uidSQS: "InvalidParameterValue",
	uidSecrets: "InvalidParameterException", "outposts-2019-12-03": "ValidationException",
}

// checkShapes runs the model constraints of one input.
func (r *report) checkShapes(params any) {
	shapesOnce.Do(loadShapes)
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	op, ok := shapes[v.Type().Elem().String()]
	if !ok {
		return
	}
	doc := apiRef(op.UID, op.Op)
	code := validationCode[op.UID]
	if code == "" {
		code = "ValidationError"
	}
	for _, c := range op.Constraints {
		for _, leaf := range resolvePath(v.Elem(), splitPath(c.Path), "") {
			r.constraint(doc, code, c, leaf.path, leaf.v)
		}
	}
}

type leafValue struct {
	path string
	v    reflect.Value
}

func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		for {
			i := strings.IndexAny(part, "[{")
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexAny(part[i:], "]}") + i
			out = append(out, part[i:j+1])
			part = part[j+1:]
			if part == "" {
				break
			}
		}
	}
	return out
}

// resolvePath follows the steps from v; unset pointers end the walk.
func resolvePath(v reflect.Value, steps []string, at string) []leafValue {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if len(steps) == 0 {
		return []leafValue{{at, v}}
	}
	step, rest := steps[0], steps[1:]
	switch step {
	case "[]":
		if v.Kind() != reflect.Slice {
			return nil
		}
		var out []leafValue
		for i := 0; i < v.Len(); i++ {
			out = append(out, resolvePath(v.Index(i), rest, fmt.Sprintf("%s[%d]", at, i))...)
		}
		return out
	case "{key}", "{}":
		if v.Kind() != reflect.Map {
			return nil
		}
		var out []leafValue
		iter := v.MapRange()
		for iter.Next() {
			x := iter.Value()
			if step == "{key}" {
				x = iter.Key()
			}
			out = append(out, resolvePath(x, rest, fmt.Sprintf("%s[%q]", at, iter.Key().String()))...)
		}
		return out
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName(step)
	if !f.IsValid() {
		return nil // the SDK names the member differently: not checked
	}
	p := step
	if at != "" {
		p = at + "." + step
	}
	return resolvePath(f, rest, p)
}

func (r *report) constraint(doc, code string, c ShapeConstraint, path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if s == "" && v.Type().Name() != "string" {
			return // an unset enum-typed member
		}
		n := utf8.RuneCountInString(s)
		if (c.Min != nil && float64(n) < *c.Min) || (c.Max != nil && float64(n) > *c.Max) {
			r.add("model.length", path, doc, code, "length %d outside the model's %s", n, bounds(c))
		}
		if c.Pattern != "" {
			if re := patterns[c.Pattern]; re != nil && !re.MatchString(s) {
				r.add("model.pattern", path, doc, code, "%q does not match the model's pattern %s", s, c.Pattern)
			}
		}
		if len(c.Enum) > 0 && !contains(c.Enum, s) {
			r.add("model.enum", path, doc, code, "%q is not one of the model's valid values", s)
		}
	case reflect.Slice, reflect.Map:
		n := v.Len()
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 && v.IsNil() {
			return
		}
		if (c.Min != nil && float64(n) < *c.Min && n > 0) || (c.Max != nil && float64(n) > *c.Max) {
			r.add("model.length", path, doc, code, "%d items/bytes outside the model's %s", n, bounds(c))
		}
	case reflect.Int32, reflect.Int64, reflect.Int:
		n := v.Int()
		if n == 0 && c.Min != nil && *c.Min > 0 {
			return // a zero non-pointer member is unset in the SDK
		}
		if (c.Min != nil && float64(n) < *c.Min) || (c.Max != nil && float64(n) > *c.Max) {
			r.add("model.range", path, doc, code, "%d outside the model's %s", n, bounds(c))
		}
	}
}

func bounds(c ShapeConstraint) string {
	lo, hi := "-", "-"
	if c.Min != nil {
		lo = fmt.Sprint(*c.Min)
	}
	if c.Max != nil {
		hi = fmt.Sprint(*c.Max)
	}
	return "min " + lo + ", max " + hi
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
