// Package wizard holds the flows (plan now; setup, drill, failback, cleanup and
// status later): Spec -> Artifacts -> Steps -> Record. It imports no charm
// package; the terminal UI lives in wizard/tui.
package wizard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// File is one rendered artifact, relative to the plan folder.
type File struct {
	Path string
	Data []byte
}

// Plan is every artifact setup will later apply, rendered offline.
type Plan struct {
	Spec     *spec.Spec
	Identity Identity
	Source   IdentitySource
	Files    []File // sorted by Path
	// Notes are what writing the plan did besides the files (leftovers of an
	// interrupted run removed, files plan did not write kept).
	Notes []string
}

// Render builds the plan. It is pure and deterministic: the same spec and
// identity give byte-identical files.
func Render(s *spec.Spec, id Identity, src IdentitySource) (*Plan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{Spec: s, Identity: id, Source: src}
	add := func(path string, data []byte) { p.Files = append(p.Files, File{Path: path, Data: data}) }

	idJSON, err := marshal(id)
	if err != nil {
		return nil, err
	}
	add(identityFile, idJSON)

	ud, err := renderUserData(s, id)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, err // names its field already
		}
		return nil, fmt.Errorf("render user data: %w", err)
	}
	add("user-data/user-data.txt", ud.Raw)
	add("user-data/user-data.b64", []byte(base64.StdEncoding.EncodeToString(ud.Raw)+"\n"))
	for _, f := range ud.Extra {
		add("user-data/"+f.Path, f.Data)
	}

	for _, role := range []string{naming.RolePrimary, naming.RoleRecovery} {
		subnet := s.Outposts.PrimarySubnet
		if role == naming.RoleRecovery {
			subnet = s.Outposts.SecondarySubnet
		}
		lt, err := outposts.NewLaunchTemplate(outposts.TemplateInput{
			Workload: s.Workload, Role: role, SubnetID: subnet, ImageID: s.Instance.HelperAMI,
			InstanceType: s.Instance.Type, KeyName: s.Instance.KeyPair, SecurityGroup: s.Instance.SecurityGroup,
			InstanceProfile: s.Instance.InstanceProfile, UserData: ud.Raw,
		})
		if err != nil {
			return nil, err
		}
		b, err := marshal(lt)
		if err != nil {
			return nil, err
		}
		add("launch-templates/"+lt.LaunchTemplateName+".json", b)
	}

	st, err := renderStack(s)
	if err != nil {
		return nil, fmt.Errorf("render recovery stack: %w", err)
	}
	add("stack/"+st.Name+".yaml", st.Template)
	params, err := marshal(st.Parameters)
	if err != nil {
		return nil, err
	}
	add("stack/"+st.Name+".parameters.json", params)

	pols, err := OperatorPolicies(s)
	if err != nil {
		return nil, err
	}
	for _, pol := range pols {
		add(pol.File, append(pol.Document, '\n'))
	}

	// What an administrator creates once per workload and Region before the
	// stack can be deployed: the boundary of the stack's roles and the
	// CloudFormation service role (see the summary's next steps).
	sr, err := CloudFormationServiceRole(s)
	if err != nil {
		return nil, err
	}
	add("iam/stack-boundary-policy.json", sr.Boundary)
	add("iam/stack-service-role-policy.json", sr.Policy)
	add("iam/stack-service-role-trust.json", sr.Trust)

	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	add("summary.txt", summary(p, ud, st.Unset()))
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	return p, nil
}

// File returns the artifact at path, or nil.
func (p *Plan) File(path string) []byte {
	for _, f := range p.Files {
		if f.Path == path {
			return f.Data
		}
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return b.Bytes(), nil
}
