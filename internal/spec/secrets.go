package spec

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// secretKeyRE matches keys that would hold a secret inline, after folding case
// and '-' to '_'. Besides the generic names it lists cloud-init's own
// secret-bearing keys (cloud-init module reference,
// https://cloudinit.readthedocs.io/en/latest/reference/modules.html): lxd
// init.trust_password, rh_subscription activation-key and password, chef
// validation_key and validation_cert, landscape client.registration_key,
// spacewalk activation_key, mcollective conf.private-cert, puppet
// csr_attributes challengePassword (OID 1.2.840.113549.1.9.7), ubuntu_pro
// token, salt_minion private_key, ssh_keys (host private keys), and the users
// and chpasswd password keys.
var secretKeyRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(password|passwd|hashed_passwd|plain_text_passwd|chpasswd|secret|api_?token|token|auth_?token|access_?token|chap_?password|chap_?secret|dh_?chap_?\w*key|mutual_password|private_?key|ssh_keys|trust_password|activation_key|validation_key|validation_cert|registration_key|private_cert|challengepassword|1\.2\.840\.113549\.1\.9\.7|\w+_password|\w+_secret|\w+_token|\w+_private_key|secret_access_key|aws_secret_access_key)$`)
})

// notSecretKeys are keys the patterns above would match that hold no secret.
var notSecretKeys = map[string]bool{"lock_passwd": true, "ssh_pwauth": true}

// isSecretKey reports whether a mapping key names an inline secret.
func isSecretKey(k string) bool {
	n := strings.ReplaceAll(strings.ToLower(k), "-", "_")
	if notSecretKeys[n] || strings.HasSuffix(n, "_arn") {
		return false
	}
	return secretKeyRE().MatchString(n)
}

// secretValueRE matches values that carry a secret whatever their key: a PEM
// private key, a WireGuard private key line, a password option on a command
// line, or a URL with a password in its user info.
var secretValueRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(-----BEGIN [A-Z ]*PRIVATE KEY-----|\bPrivateKey\s*=|(^|\s)--?(password|passwd|pass)[=\s]+[^\s-]|\b(password|passwd)=\S|[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@)`)
})

const secretFix = "store it in Secrets Manager and give its ARN (credentials.secret_arn / chap_secret_arn), or name an environment variable (credentials.env)"

const cloudSecretFix = "user data is readable by anyone who can describe the instance: put it in the image or fetch it from Secrets Manager at boot"

// secretWalker finds inline secrets, following aliases within a node budget so
// that a secret cannot hide behind *alias or <<: merge, and a bomb cannot hang it.
type secretWalker struct {
	ps     Problems
	b      *budget
	values bool // also check string values (cloud-config)
	fix    string
}

func findInlineSecrets(n *yaml.Node, path string) Problems {
	w := &secretWalker{b: newBudget(), fix: secretFix}
	w.walk(n, path)
	return w.ps
}

func (w *secretWalker) walk(n *yaml.Node, path string) {
	if !w.b.take() {
		return
	}
	field := path
	if field == "" {
		field = "(file)"
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, path)
		}
	case yaml.AliasNode:
		w.walk(n.Alias, path)
	case yaml.MappingNode:
		for _, kv := range pairs(n) {
			k, v := kv[0], kv[1]
			p := join(path, k.Value)
			if k.Value == "<<" {
				p = path
			}
			if k.Kind == yaml.ScalarNode && isSecretKey(k.Value) {
				w.ps = append(w.ps, Problem{Field: p, Message: "holds a secret inline; the answers file never carries secrets", Fix: w.fix})
				continue
			}
			w.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.walk(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		if w.values && secretValueRE().MatchString(n.Value) {
			w.ps = append(w.ps, Problem{Field: field, Message: "holds what looks like a secret (a private key, a password option or user:password@ in a URL); the answers file never carries secrets", Fix: w.fix})
		}
	}
}

// checkCloudConfig applies the answers file's rules to guest.cloud_config: one
// YAML document, a mapping, no duplicate keys, bounded aliases, and no inline
// secrets, including cloud-init's own secret-bearing keys.
func checkCloudConfig(cc string) Problems {
	const field = "guest.cloud_config"
	root, probs := parseOneDocument([]byte(cc), field)
	if probs != nil {
		return probs
	}
	if root == nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return Problems{{Field: field, Message: "is not a YAML mapping", Fix: "give cloud-config as YAML keys (packages:, runcmd:, ...)"}}
	}
	d := &dupWalker{b: newBudget()}
	d.walk(root.Content[0], field)
	if d.b.spent() {
		return Problems{{Field: field, Message: aliasMsg, Fix: aliasFix}}
	}
	if len(d.ps) > 0 {
		return d.ps
	}
	// yaml.v3's decoder refuses excessive aliasing; cloud-init's parser would expand it.
	var v any
	if err := yaml.Unmarshal([]byte(cc), &v); err != nil {
		return Problems{yamlProblem(field, err, []byte(cc))}
	}
	w := &secretWalker{b: newBudget(), values: true, fix: cloudSecretFix}
	w.walk(root, field)
	return w.ps
}

// dupWalker refuses duplicate keys in every mapping (cloud-init would keep the
// last one silently) and counts nodes, aliases expanded, against the budget.
type dupWalker struct {
	ps Problems
	b  *budget
}

func (d *dupWalker) walk(n *yaml.Node, path string) {
	if !d.b.take() {
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		d.walk(n.Alias, path)
	case yaml.MappingNode:
		seen := map[string]int{}
		for _, kv := range pairs(n) {
			k, v := kv[0], kv[1]
			p := join(path, k.Value)
			if line, dup := seen[k.Value]; dup && k.Value != "<<" {
				d.ps = append(d.ps, Problem{Field: p, Message: fmt.Sprintf("appears twice (lines %d and %d of the cloud-config)", line, k.Line), Fix: "keep one of them"})
				continue
			}
			seen[k.Value] = k.Line
			d.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.walk(c, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}
