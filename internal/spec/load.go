package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxAnswersSize bounds the answers file; a real one is a few kilobytes.
const MaxAnswersSize = 256 << 10

// secretKeyRE matches keys that would hold a secret inline.
var secretKeyRE = regexp.MustCompile(`(?i)^(password|passwd|secret|api_?token|token|chap_?password|chap_?secret|dh_?chap_?\w*key|mutual_password|private_key)$`)

// Parse decodes an answers file, refusing unknown keys and inline secrets, then
// normalises defaults. It does not validate values: call Validate.
func Parse(data []byte) (*Spec, error) {
	if len(data) > MaxAnswersSize {
		return nil, fmt.Errorf("answers file is %d bytes: the limit is %d", len(data), MaxAnswersSize)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{Field: "(file)", Message: "is not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "), Fix: "check indentation and quoting; values with ':' or '\\' go in single quotes"}}
	}
	if probs := findInlineSecrets(&root, ""); len(probs) > 0 {
		return nil, probs
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Field: "(file)", Message: "is empty", Fix: "start from one of the files in examples/"}}
		}
		return nil, Problems{{Field: "(file)", Message: strings.TrimPrefix(err.Error(), "yaml: "), Fix: "check the key names and value types against the files in examples/"}}
	}
	s.Normalize()
	return &s, nil
}

func findInlineSecrets(n *yaml.Node, path string) Problems {
	var out Problems
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			out = append(out, findInlineSecrets(c, path)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if secretKeyRE.MatchString(k.Value) && !strings.HasSuffix(k.Value, "_arn") {
				out = append(out, Problem{
					Field:   p,
					Message: "holds a secret inline; the answers file never carries secrets",
					Fix:     "store it in Secrets Manager and give its ARN (credentials.secret_arn / chap_secret_arn), or name an environment variable (credentials.env)",
				})
				continue
			}
			out = append(out, findInlineSecrets(v, p)...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			out = append(out, findInlineSecrets(c, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}
