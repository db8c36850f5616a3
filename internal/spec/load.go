package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/sanboot"
)

// MaxAnswersSize bounds the answers file; a real one is a few kilobytes.
const MaxAnswersSize = 256 << 10

// maxNodes bounds how many YAML nodes a walk visits, aliases expanded: a real
// answers file has a few hundred. An alias bomb stops here instead of
// exhausting memory or time; it also bounds the depth of the recursion.
const maxNodes = 20000

// budget counts the nodes one walk visits against a limit.
type budget struct {
	max, n int
}

func newBudget() *budget { return &budget{max: maxNodes} }

// take counts one node and reports whether the walk may visit it.
func (b *budget) take() bool {
	b.n++
	return b.n <= b.max
}

// spent reports whether the walk stopped short.
func (b *budget) spent() bool { return b.n > b.max }

// pairs returns a mapping node's key/value pairs.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	for i := 0; i < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

// aliasFix is the one fix for an alias bomb.
const aliasMsg, aliasFix = "expands its aliases (*name) into too many values", "write the values out instead of nesting aliases"

// Parse decodes an answers file, refusing unknown keys and inline secrets, then
// normalises defaults. It does not validate values: call Validate. Every
// problem it reports is a Problems value, so callers can treat it as bad input.
func Parse(data []byte) (*Spec, error) {
	if len(data) > MaxAnswersSize {
		return nil, Problems{{Field: "(file)", Message: fmt.Sprintf("is %d bytes: the limit is %d", len(data), MaxAnswersSize), Fix: "an answers file is a few kilobytes: check you gave the right file"}}
	}
	root, probs := parseOneDocument(data, "(file)")
	if probs != nil {
		return nil, probs
	}
	if root == nil {
		return nil, Problems{{Field: "(file)", Message: "is empty", Fix: "start from one of the files in examples/"}}
	}
	if probs := findInlineSecrets(root, ""); len(probs) > 0 {
		return nil, probs
	}
	w := &schemaWalker{b: newBudget()}
	w.walk(root, reflect.TypeOf(Spec{}), "")
	if w.b.spent() {
		return nil, Problems{{Field: "(file)", Message: aliasMsg, Fix: aliasFix}}
	}
	if len(w.ps) > 0 {
		return nil, w.ps
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Field: "(file)", Message: "is empty", Fix: "start from one of the files in examples/"}}
		}
		return nil, Problems{yamlProblem("(file)", err, data)}
	}
	if cc := s.Guest.CloudConfig; cc != "" {
		if probs := checkCloudConfig(cc); len(probs) > 0 {
			return nil, probs
		}
	}
	s.Normalize()
	return &s, nil
}

// parseOneDocument parses data as exactly one YAML document and returns its
// root node (nil for an empty document). A syntax error, or a second
// document, is a problem of field.
func parseOneDocument(data []byte, field string) (*yaml.Node, Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, Problems{yamlProblem(field, err, data)}
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, Problems{{Field: field, Message: "holds more than one YAML document ('---' starts a second one)", Fix: "keep one document: remove the '---' line and what follows, or merge it into the first"}}
	}
	return &root, nil
}

var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`) })

// yamlProblem turns a yaml.v3 error into the answers file's language: the
// line, what is wrong, and a fix; tabs used for indentation are named as such.
func yamlProblem(field string, err error, data []byte) Problem {
	if n := tabIndentLine(data); n > 0 {
		return Problem{Field: field, Message: fmt.Sprintf("line %d is indented with a tab: tabs are not allowed for indentation, use spaces", n), Fix: "replace the tabs at the start of the line with spaces"}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		msg = "line " + m[1] + ": " + m[2]
	}
	if strings.Contains(msg, "excessive aliasing") {
		return Problem{Field: field, Message: aliasMsg, Fix: aliasFix}
	}
	msg = shorten(msg, 200)
	return Problem{Field: field, Message: "is not valid YAML: " + msg, Fix: "check indentation and quoting; values with ':' or '\\' go in single quotes"}
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tabIndentLine returns the first line (1-based) whose indentation holds a
// tab, or 0.
func tabIndentLine(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") && strings.TrimSpace(line) != "" {
			return i + 1
		}
	}
	return 0
}

// schemaWalker checks a YAML tree against a Go type before decoding, so that
// problems are reported with the key path and in the answers file's terms:
// unknown keys (with a suggestion), duplicate keys, wrong shapes, and integers
// that are not plain decimal.
type schemaWalker struct {
	ps Problems
	b  *budget
}

func (w *schemaWalker) add(field, msg, fix string) {
	if field == "" {
		field = "(file)"
	}
	w.ps = append(w.ps, Problem{Field: field, Message: msg, Fix: fix})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve follows an alias (YAML has no alias of an alias).
func (w *schemaWalker) resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return kindName(t.Elem())
	case reflect.Struct:
		return "a mapping of keys"
	case reflect.Slice:
		return "a list"
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	}
	return "text"
}

func nodeName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true/false"
	}
	return "text"
}

var plainDecimalRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`) })

func (w *schemaWalker) walk(n *yaml.Node, t reflect.Type, path string) {
	if !w.b.take() {
		return
	}
	n = w.resolve(n)
	if n == nil {
		return
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			w.walk(c, t, path)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value: the field keeps its zero value
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.add(path, "is "+nodeName(n)+" but must be "+kindName(t), "indent its keys below it, one per line: key: value")
			return
		}
		w.walkMapping(n, t, path, map[string]int{})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(path, "is "+nodeName(n)+" but must be a list", `write it as ["a", "b"] or as lines starting with "- "`)
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode {
			w.add(path, "is "+nodeName(n)+" but must be a whole number", "write a plain decimal number, e.g. 1")
			return
		}
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || !plainDecimalRE().MatchString(n.Value) {
			w.add(path, "is "+sanboot.QuoteShort(n.Value)+" but must be a whole number in plain decimal",
				"write it without quotes, leading zeros, '+', '_' or 0x/0o prefixes (YAML reads 017 as octal 15), e.g. 17")
			return
		}
		if _, err := strconv.ParseInt(n.Value, 10, 32); err != nil {
			w.add(path, "is "+sanboot.QuoteShort(n.Value)+", far out of range", "give a small whole number")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			w.add(path, "is "+nodeName(n)+" but must be true or false", "write true or false")
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			w.add(path, "is "+nodeName(n)+" but must be text", "give one value on the same line (a block of text goes after '|')")
		}
	}
}

// walkMapping checks the keys of one mapping against struct t. seen maps each
// key to its line so that duplicates are named; keys that come from a '<<'
// merge are checked against their own mapping only, since an explicit key may
// override them.
func (w *schemaWalker) walkMapping(n *yaml.Node, t reflect.Type, path string, seen map[string]int) {
	fields := structKeys(t)
	for _, kv := range pairs(n) {
		if !w.b.take() {
			return
		}
		k, v := kv[0], kv[1]
		if k.Kind != yaml.ScalarNode {
			w.add(path, fmt.Sprintf("line %d: has a key that is %s", k.Line, nodeName(k)), "keys are plain names such as portals")
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			// yaml.v3 has already refused a merge of anything but a mapping or a
			// list of mappings.
			src := w.resolve(v)
			maps := []*yaml.Node{src}
			if src.Kind == yaml.SequenceNode {
				maps = src.Content
			}
			for _, m := range maps {
				w.walkMapping(w.resolve(m), t, path, map[string]int{})
			}
			continue
		}
		p := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			w.add(p, fmt.Sprintf("appears twice (lines %d and %d)", line, k.Line), "keep one of them")
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			w.add(p, "is not a key the answers file has here", unknownKeyFix(k.Value, t, path))
			continue
		}
		w.walk(v, ft, p)
	}
}

// structKeys maps each YAML key of struct t to its field type.
func structKeys(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// unknownKeyFix suggests the key the operator probably meant: a near spelling
// at the same level, or the place where that key belongs.
func unknownKeyFix(key string, t reflect.Type, path string) string {
	keys := structKeys(t)
	best, bestD := "", 3
	if len(key) <= 4 {
		bestD = 2
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if d := sanboot.EditDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return "did you mean `" + best + "`?"
	}
	if where := SchemaPaths(key); len(where) > 0 {
		return "`" + key + "` belongs under " + strings.Join(where, " or ")
	}
	here := "the top level"
	if path != "" {
		here = path
	}
	return "the keys under " + here + " are " + strings.Join(names, ", ")
}

// SchemaKeys lists every key path the answers file accepts, with [] for list
// elements (storage.data[].lun), sorted. Tests use it to check that the
// examples cover the whole schema.
func SchemaKeys() []string {
	var out []string
	var rec func(t reflect.Type, path string)
	rec = func(t reflect.Type, path string) {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			for k, ft := range structKeys(t) {
				p := join(path, k)
				out = append(out, p)
				rec(ft, p)
			}
		case reflect.Slice:
			rec(t.Elem(), path+"[]")
		}
	}
	rec(reflect.TypeOf(Spec{}), "")
	sort.Strings(out)
	return out
}

// SchemaPaths returns the parent paths under which key is a valid key.
func SchemaPaths(key string) []string {
	var out []string
	for _, p := range SchemaKeys() {
		if parent, ok := strings.CutSuffix(p, "."+key); ok {
			out = append(out, parent)
		}
	}
	return out
}
