// Command shapegen extracts, for every SDK input the contract check covers,
// the member constraints of the AWS service model (length, pattern, range,
// enum): the same data the API reference prints as "Length Constraints",
// "Pattern" and "Valid Values" under each request parameter. It reads the
// service models botocore ships in the project's venv and writes
// internal/awsx/awsxtest/shapes.json:
//
//	go run ./internal/awsx/awsxtest/internal/shapegen -data .venv/lib/python3*/site-packages/botocore/data
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
)

type model struct {
	Metadata struct {
		UID string `json:"uid"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input struct {
			Shape string `json:"shape"`
		} `json:"input"`
	} `json:"operations"`
	Shapes map[string]shape `json:"shapes"`
}

type shape struct {
	Type    string            `json:"type"`
	Min     *float64          `json:"min"`
	Max     *float64          `json:"max"`
	Pattern string            `json:"pattern"`
	Enum    []string          `json:"enum"`
	Members map[string]member `json:"members"`
	Member  *member           `json:"member"`
	Key     *member           `json:"key"`
	Value   *member           `json:"value"`
}

type member struct {
	Shape string `json:"shape"`
}

// Go SDK package name -> botocore service directory.
var services = map[string]string{
	"ec2": "ec2", "ssm": "ssm", "sns": "sns", "cloudformation": "cloudformation", "cloudwatch": "cloudwatch",
	"lambda": "lambda", "s3": "s3", "iam": "iam", "sqs": "sqs", "secretsmanager": "secretsmanager", "sts": "sts",
	"outposts": "outposts",
}

func load(dir string) (*model, error) {
	versions, err := filepath.Glob(filepath.Join(dir, "*", "service-2.json*"))
	if err != nil || len(versions) == 0 {
		return nil, fmt.Errorf("no service model in %s", dir)
	}
	sort.Strings(versions)
	f, err := os.Open(versions[len(versions)-1])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(f.Name(), ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = gz
	}
	var m model
	return &m, json.NewDecoder(r).Decode(&m)
}

func main() {
	data := flag.String("data", "", "botocore data directory")
	out := flag.String("out", "internal/awsx/awsxtest/shapes.json", "output file")
	flag.Parse()
	models := map[string]*model{}
	result := map[string]awsxtest.ShapeOp{}
	for _, name := range awsxtest.CoveredInputs() {
		pkg, typ, _ := strings.Cut(name, ".")
		dir, ok := services[pkg]
		if !ok {
			continue
		}
		m := models[pkg]
		if m == nil {
			var err error
			if m, err = load(filepath.Join(*data, dir)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			models[pkg] = m
		}
		op := strings.TrimSuffix(typ, "Input")
		o, ok := m.Operations[op]
		if !ok || o.Input.Shape == "" {
			continue
		}
		var cs []awsxtest.ShapeConstraint
		walk(m, o.Input.Shape, "", map[string]bool{}, &cs)
		if len(cs) > 0 {
			result[name] = awsxtest.ShapeOp{UID: m.Metadata.UID, Op: op, Constraints: cs}
		}
	}
	b, err := json.MarshalIndent(result, "", " ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func walk(m *model, name, path string, seen map[string]bool, out *[]awsxtest.ShapeConstraint) {
	s := m.Shapes[name]
	c := awsxtest.ShapeConstraint{Path: path, Type: s.Type, Min: s.Min, Max: s.Max, Pattern: s.Pattern, Enum: s.Enum}
	if len(c.Enum) > 100 {
		// Long enums (EC2 instance types, resource types) change with every
		// release; the model and the SDK disagree too often to check them.
		c.Enum = nil
	}
	if path != "" && (c.Min != nil || c.Max != nil || c.Pattern != "" || len(c.Enum) > 0) {
		switch s.Type {
		case "string", "blob", "list", "map", "integer", "long":
			*out = append(*out, c)
		}
	}
	if seen[name] {
		return // recursive shapes: stop
	}
	seen = copyWith(seen, name)
	switch s.Type {
	case "structure":
		keys := make([]string, 0, len(s.Members))
		for k := range s.Members {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(m, s.Members[k].Shape, join(path, k), seen, out)
		}
	case "list":
		if s.Member != nil {
			walk(m, s.Member.Shape, path+"[]", seen, out)
		}
	case "map":
		if s.Key != nil {
			walk(m, s.Key.Shape, path+"{key}", seen, out)
		}
		if s.Value != nil {
			walk(m, s.Value.Shape, path+"{}", seen, out)
		}
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func copyWith(m map[string]bool, k string) map[string]bool {
	n := make(map[string]bool, len(m)+1)
	for x := range m {
		n[x] = true
	}
	n[k] = true
	return n
}
