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
var secretKeyRE = regexp.MustCompile(`(?i)^(password|passwd|hashed_passwd|plain_text_passwd|chpasswd|secret|api_?token|token|chap_?password|chap_?secret|dh_?chap_?\w*key|mutual_password|private_key|ssh_keys)$`)

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
	if cc := s.Guest.CloudConfig; cc != "" {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(cc), &n); err != nil || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			return nil, Problems{{Field: "guest.cloud_config", Message: "is not a YAML mapping", Fix: "give cloud-config as YAML keys (packages:, runcmd:, ...)"}}
		}
		if probs := findInlineSecrets(&n, "guest.cloud_config"); len(probs) > 0 {
			for i := range probs {
				probs[i].Fix = "user data is readable by anyone who can describe the instance: set passwords in the image or fetch them from Secrets Manager at boot"
			}
			return nil, probs
		}
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
