package wizard

// The apply steps of setup (issue 12, "Apply: ordered, idempotent,
// journaled"). Each is an apply.Step: Do is find-or-create, Find looks
// without changing anything for what an interrupted Do made and claims it as
// this setup's only on proof (the setup token as a tag or client token, or
// for the stack the instance this setup launched), Undo removes only what
// the journal says this setup created. Array volumes are never deleted.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/recovery"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
)

// Step names, in order. They are journaled: renaming one makes an older
// journal unreadable to this binary (the runner refuses unknown steps).
const (
	StepLNI       = "lni"
	StepArrayHost = "array-host"
	StepArray     = "array"
	StepRender    = "user-data"
	StepTemplates = "launch-templates"
	StepHelper    = "helper"
	StepStack     = "stack"
	StepRecord    = "record"
)

// Resource types journaled for the array (not AWS types).
const (
	ResArrayHost    = "array:host"
	ResArrayMapping = "array:mapping"
	ResArrayVolume  = "array:volume"
	ResSubnetLNI    = "AWS::EC2::Subnet/EnableLniAtDeviceIndex"
)

// TagSetupLNI marks a subnet whose LNI setup enabled (value: the setup
// token), so Find can prove the change was this setup's and abort can undo it.
const TagSetupLNI = "outposts-ha:setup-lni"

// SetupEC2 is every EC2 call setup makes.
type SetupEC2 interface {
	outposts.SubnetAttributeAPI
	outposts.HelperAPI
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, o ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, o ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	CreateLaunchTemplate(ctx context.Context, in *ec2.CreateLaunchTemplateInput, o ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error)
	DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DeleteLaunchTemplate(ctx context.Context, in *ec2.DeleteLaunchTemplateInput, o ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, o ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

func tagMap(ts []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func ec2Tags(m map[string]string) []ec2types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]ec2types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// ---- 1. LNI ----

// lniStep sets EnableLniAtDeviceIndex=1 on both subnets when the operator
// chose it. It first tags the subnet TagSetupLNI=<token> (the proof for Find
// and abort), then enables. A subnet already at 1 without that tag is
// reported as found, not created: abort leaves it.
type lniStep struct {
	ec2      SetupEC2
	region   string
	subnets  []string
	enable   bool
	workload string
}

func (s *lniStep) Name() string { return StepLNI }

func (s *lniStep) read(ctx context.Context, id string) (ec2types.Subnet, error) {
	out, err := s.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if err != nil {
		return ec2types.Subnet{}, fmt.Errorf("read subnet %s (ec2:DescribeSubnets): %w", id, err)
	}
	if len(out.Subnets) != 1 {
		return ec2types.Subnet{}, fmt.Errorf("subnet %s not found", id)
	}
	return out.Subnets[0], nil
}

func (s *lniStep) resource(id string, mine bool) record.Resource {
	return record.Resource{Type: ResSubnetLNI, ID: id, Region: s.region, CreatedByUs: mine,
		Attrs: map[string]string{"EnableLniAtDeviceIndex": "1"}}
}

// Find reports the step done when every subnet has its LNI at index 1.
func (s *lniStep) Find(ctx context.Context, env apply.Env) (apply.Result, bool, error) {
	var res apply.Result
	for _, id := range s.subnets {
		sn, err := s.read(ctx, id)
		if err != nil {
			return res, false, err
		}
		if aws.ToInt32(sn.EnableLniAtDeviceIndex) != outposts.LNIDeviceIndex {
			return apply.Result{}, false, nil
		}
		res.Resources = append(res.Resources, s.resource(id, tagMap(sn.Tags)[TagSetupLNI] == env.Token))
	}
	return res, true, nil
}

func (s *lniStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	var res apply.Result
	for _, id := range s.subnets {
		sn, err := s.read(ctx, id)
		if err != nil {
			return res, err
		}
		tags := tagMap(sn.Tags)
		if aws.ToInt32(sn.EnableLniAtDeviceIndex) == outposts.LNIDeviceIndex {
			res.Resources = append(res.Resources, s.resource(id, tags[TagSetupLNI] == env.Token))
			continue
		}
		if !s.enable {
			return res, &outposts.Problem{Field: "subnet " + id, What: "its local network interface is not at device index 1 (EnableLniAtDeviceIndex)",
				Fix: "run setup with --enable-lni to let it set EnableLniAtDeviceIndex=1, or: aws ec2 modify-subnet-attribute --subnet-id " + id + " --enable-lni-at-device-index 1"}
		}
		if _, err := s.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags(map[string]string{TagSetupLNI: env.Token})}); err != nil {
			return res, fmt.Errorf("mark subnet %s before enabling its LNI (ec2:CreateTags): %w", id, err)
		}
		if _, err := outposts.EnableLNI(ctx, s.ec2, id); err != nil {
			res.Resources = append(res.Resources, s.resource(id, true))
			return res, err
		}
		res.Resources = append(res.Resources, s.resource(id, true))
	}
	return res, nil
}

func (s *lniStep) Undo(ctx context.Context, r apply.Result) error {
	for _, x := range r.Resources {
		_, err := s.ec2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(x.ID), DisableLniAtDeviceIndex: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
		if err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("disable the LNI setup enabled on %s (ec2:ModifySubnetAttribute): %w", x.ID, err)
		}
		_, err = s.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{x.ID}, Tags: []ec2types.Tag{{Key: aws.String(TagSetupLNI)}}})
		if err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("remove the %s tag from %s (ec2:DeleteTags): %w", TagSetupLNI, x.ID, err)
		}
	}
	return nil
}

// ---- 2. Array ----

// arrayHostStep finds or creates the workload's host with its initiator
// identity. It is a step of its own, journaled as soon as EnsureHost
// returns, so that whether setup created the host survives a crash in the
// maps that follow. The storage.Array interface has no look-up without
// create, so Find reports nothing and a resume re-runs Do (find-or-create on
// every vendor); only a crash between EnsureHost and this step's journal
// entry loses the proof (abort then leaves the host: the safe side).
type arrayHostStep struct {
	arr      storage.Array
	spec     *spec.Spec
	identity Identity
}

func (s *arrayHostStep) Name() string { return StepArrayHost }

func (s *arrayHostStep) Find(context.Context, apply.Env) (apply.Result, bool, error) {
	return apply.Result{}, false, nil
}

func initiatorOf(s *spec.Spec, id Identity) string {
	if s.Storage.Protocol == string(storage.NVMeTCP) {
		return id.HostNQN
	}
	return id.InitiatorIQN
}

func (s *arrayHostStep) Do(ctx context.Context, _ apply.Env) (apply.Result, error) {
	if err := s.arr.Login(ctx); err != nil {
		return apply.Result{}, fmt.Errorf("array login: %w", err)
	}
	os := storage.Linux
	if s.spec.GuestOS == string(storage.Windows) {
		os = storage.Windows
	}
	ini := initiatorOf(s.spec, s.identity)
	host, err := s.arr.EnsureHost(ctx, storage.HostSpec{Name: naming.ArrayHost(s.spec.Workload), Initiator: ini, Protocol: storage.Protocol(s.spec.Storage.Protocol), OS: os})
	if err != nil {
		return apply.Result{}, fmt.Errorf("array host %s with initiator %s: %w", naming.ArrayHost(s.spec.Workload), ini, err)
	}
	return apply.Result{
		Resources: []record.Resource{{Type: ResArrayHost, ID: host.ID, CreatedByUs: host.Created,
			Attrs: map[string]string{"name": host.Name, "initiator": ini, "vendor": s.spec.Storage.Vendor}}},
		Outputs: map[string]string{"host.id": host.ID, "host.name": host.Name},
	}, nil
}

// Undo deletes the host setup created, after removing any map of the
// answers' volumes still on it (a map on setup's host is setup's, even one
// a crash kept out of the journal).
func (s *arrayHostStep) Undo(ctx context.Context, r apply.Result) error {
	if len(r.Resources) == 0 {
		return nil
	}
	if s.arr == nil {
		return errors.New("abort needs the array to delete the host setup created: run setup --abort with the answers file")
	}
	if err := s.arr.Login(ctx); err != nil {
		return fmt.Errorf("array login: %w", err)
	}
	vols, err := s.arr.Volumes(ctx)
	if err != nil {
		return fmt.Errorf("list array volumes: %w", err)
	}
	for _, x := range r.Resources {
		h := storage.Host{ID: x.ID, Name: x.Attrs["name"]}
		for _, w := range append([]spec.Volume{s.spec.Storage.Boot}, s.spec.Storage.Data...) {
			if v, ok := volumeByName(vols, w.Volume); ok && !isGeneric(s.spec) {
				if err := s.arr.Unmap(ctx, h, v); err != nil {
					return fmt.Errorf("unmap %s from %s: %w", v.Name, h.Name, err)
				}
			}
		}
		if err := s.arr.DeleteHost(ctx, h); err != nil {
			return fmt.Errorf("delete array host %s: %w", h.Name, err)
		}
	}
	return nil
}

// arrayStep maps the boot and data volumes to the host of the step before
// and reads back the LUNs and the target the array assigned. Find reports
// nothing (see arrayHostStep); Do is find-or-create. A map is setup's when
// the host is (journaled by arrayHostStep): on a host that existed the
// array cannot tell who made a map, so it is left alone.
type arrayStep struct {
	arr      storage.Array
	spec     *spec.Spec
	identity Identity
}

func (s *arrayStep) Name() string { return StepArray }

func (s *arrayStep) Find(context.Context, apply.Env) (apply.Result, bool, error) {
	return apply.Result{}, false, nil
}

func volumeByName(vols []storage.Volume, name string) (storage.Volume, bool) {
	for _, v := range vols {
		if v.Name == name || v.ID == name {
			return v, true
		}
	}
	return storage.Volume{}, false
}

func (s *arrayStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	res := apply.Result{Outputs: map[string]string{}}
	if err := s.arr.Login(ctx); err != nil {
		return res, fmt.Errorf("array login: %w", err)
	}
	vols, err := s.arr.Volumes(ctx)
	if err != nil {
		return res, fmt.Errorf("list array volumes: %w", err)
	}
	proto := storage.Protocol(s.spec.Storage.Protocol)
	prior := env.Prior[StepArrayHost]
	host := storage.Host{ID: prior.Outputs["host.id"], Name: prior.Outputs["host.name"], Initiators: []string{initiatorOf(s.spec, s.identity)}}
	if host.ID == "" {
		return res, errors.New("the array-host step journaled no host")
	}
	hostOurs := false
	for _, x := range prior.Resources {
		hostOurs = hostOurs || (x.Type == ResArrayHost && x.ID == host.ID && x.CreatedByUs)
	}
	res.Outputs["host.id"], res.Outputs["host.name"] = host.ID, host.Name
	wanted := append([]spec.Volume{s.spec.Storage.Boot}, s.spec.Storage.Data...)
	if isGeneric(s.spec) {
		// The generic client knows only the boot target the operator typed;
		// data volumes keep their typed targets and LUNs (appliedSpec).
		wanted = wanted[:1]
	}
	for i, w := range wanted {
		key := "boot"
		if i > 0 {
			key = "data." + strconv.Itoa(i-1)
		}
		vol, ok := volumeByName(vols, w.Volume)
		if !ok && isGeneric(s.spec) && len(vols) == 1 {
			vol, ok = vols[0], true
		}
		if !ok {
			return res, &outposts.Problem{Field: "storage." + key + ".volume", What: fmt.Sprintf("the array has no volume %q", w.Volume),
				Fix: "pick a volume the array lists (outposts-ha array check shows them)"}
		}
		res.Resources = append(res.Resources, record.Resource{Type: ResArrayVolume, ID: vol.ID, Attrs: map[string]string{"name": vol.Name}})
		// -1: the array chooses; the LUN it assigned is read back below and
		// is what the user data carries, not the one typed in the answers.
		m, err := s.arr.Map(ctx, host, vol, -1)
		if err != nil {
			return res, fmt.Errorf("map %s to %s: %w", vol.Name, host.Name, err)
		}
		// A map on a host setup created is setup's; on a host that existed
		// the array cannot tell us who made the map, so it is left alone.
		res.Resources = append(res.Resources, record.Resource{Type: ResArrayMapping, ID: host.ID + "/" + vol.ID, CreatedByUs: hostOurs,
			Attrs: map[string]string{"host": host.ID, "host_name": host.Name, "volume": vol.ID, "volume_name": vol.Name, "lun": strconv.Itoa(m.LUN)}})
		res.Outputs[key+".lun"] = strconv.Itoa(m.LUN)
		res.Outputs[key+".volume"] = vol.Name
	}
	res.Outputs["volumes"] = strconv.Itoa(len(wanted))
	t, err := s.arr.Target(ctx, proto)
	if err != nil {
		return res, fmt.Errorf("read the array's %s target: %w", proto, err)
	}
	var ps []string
	for _, e := range t.Endpoints {
		a, err := netip.ParseAddr(e.Address)
		if err != nil || a.Zone() != "" {
			continue
		}
		ps = append(ps, netip.AddrPortFrom(a, uint16(e.Port)).String())
	}
	if t.Name == "" || len(ps) == 0 {
		return res, fmt.Errorf("the array reported no usable %s target (name %q, %d portals)", proto, t.Name, len(ps))
	}
	res.Outputs["target"] = t.Name
	res.Outputs["portals"] = strings.Join(ps, ",")
	return res, nil
}

// Undo unmaps what setup mapped (the host goes with arrayHostStep's undo).
// Volumes are never deleted.
func (s *arrayStep) Undo(ctx context.Context, r apply.Result) error {
	if len(r.Resources) == 0 {
		return nil
	}
	if s.arr == nil {
		return errors.New("abort needs the array to undo its maps: run setup --abort with the answers file")
	}
	if err := s.arr.Login(ctx); err != nil {
		return fmt.Errorf("array login: %w", err)
	}
	for _, x := range r.Resources {
		if x.Type != ResArrayMapping {
			continue
		}
		h := storage.Host{ID: x.Attrs["host"], Name: x.Attrs["host_name"]}
		v := storage.Volume{ID: x.Attrs["volume"], Name: x.Attrs["volume_name"]}
		if err := s.arr.Unmap(ctx, h, v); err != nil {
			return fmt.Errorf("unmap %s from %s: %w", v.Name, h.Name, err)
		}
	}
	return nil
}

func isGeneric(s *spec.Spec) bool { return s.Storage.Vendor == "generic" }

// ---- 3. User data ----

// appliedSpec is the answers with what the array really assigned: its
// target, portals and LUNs replace whatever was typed.
func appliedSpec(s *spec.Spec, prior apply.Results) (*spec.Spec, error) {
	c := *s
	if isGeneric(s) {
		// No array API: what the operator typed is what the array serves
		// (the generic client's Map returns the typed LUN).
		return &c, nil
	}
	ps := strings.Split(prior.Output(StepArray, "portals"), ",")
	target := prior.Output(StepArray, "target")
	lunOf := func(key string) (*int, error) {
		v := prior.Output(StepArray, key+".lun")
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("the array step journaled no LUN for %s (%q)", key, v)
		}
		return &n, nil
	}
	var err error
	c.Storage.Boot.Target, c.Storage.Boot.Portals = target, ps
	if c.Storage.Boot.LUN, err = lunOf("boot"); err != nil {
		return nil, err
	}
	c.Storage.Data = slices.Clone(s.Storage.Data)
	for i := range c.Storage.Data {
		c.Storage.Data[i].Target, c.Storage.Data[i].Portals = target, ps
		if c.Storage.Data[i].LUN, err = lunOf("data." + strconv.Itoa(i)); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// AppliedUserData renders the user data with the values the array step
// journaled.
func AppliedUserData(s *spec.Spec, id Identity, prior apply.Results) ([]byte, error) {
	c, err := appliedSpec(s, prior)
	if err != nil {
		return nil, err
	}
	if !isGeneric(s) {
		trimArrayBootPortals(c, id)
	}
	ud, err := renderUserData(c, id)
	if err != nil {
		return nil, err
	}
	return ud.Raw, nil
}

// trimArrayBootPortals keeps the boot portals the array reported that a boot
// can hand to the OS (sanboot.TrimBootPaths: the iBFT's room under BIOS, the
// path count under UEFI). The array reports every iSCSI port; the boot uses
// the first that fit and the guest's multipath adds the others. Typed portals
// are never trimmed: plan refuses too many instead. Data volumes keep every
// portal (no iBFT limit).
func trimArrayBootPortals(c *spec.Spec, id Identity) {
	if c.Storage.Protocol != "nvme-tcp" {
		cfg, err := ipxeConfig(c, id)
		if err != nil {
			return // renderUserData reports it
		}
		trimmed, dropped := cfg.TrimBootPaths()
		if len(dropped) > 0 {
			c.Storage.Boot.Portals = c.Storage.Boot.Portals[:len(trimmed.Portals)]
		}
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// renderStep renders the user data with the array's real values. It makes
// nothing; its journaled digest lets the template step check it renders the
// same bytes on a resume.
type renderStep struct {
	spec     *spec.Spec
	identity Identity
}

func (s *renderStep) Name() string { return StepRender }
func (s *renderStep) Find(context.Context, apply.Env) (apply.Result, bool, error) {
	return apply.Result{}, false, nil
}
func (s *renderStep) Undo(context.Context, apply.Result) error { return nil }
func (s *renderStep) Do(_ context.Context, env apply.Env) (apply.Result, error) {
	ud, err := AppliedUserData(s.spec, s.identity, env.Prior)
	if err != nil {
		return apply.Result{}, err
	}
	return apply.Result{Outputs: map[string]string{"sha256": sha(ud), "bytes": strconv.Itoa(len(ud)),
		"boot.lun": env.Prior.Output(StepArray, "boot.lun"), "target": env.Prior.Output(StepArray, "target")}}, nil
}

// ---- 4. Launch templates ----

type templatesStep struct {
	ec2      SetupEC2
	spec     *spec.Spec
	identity Identity
}

func (s *templatesStep) Name() string { return StepTemplates }

func (s *templatesStep) describe(ctx context.Context, name string) (*ec2types.LaunchTemplate, error) {
	out, err := s.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{name}})
	if awsx.IsNotFound(err) || isLTNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for launch template %s (ec2:DescribeLaunchTemplates): %w", name, err)
	}
	if len(out.LaunchTemplates) == 0 {
		return nil, nil
	}
	return &out.LaunchTemplates[0], nil
}

func isLTNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.HasPrefix(ae.ErrorCode(), "InvalidLaunchTemplateName.NotFound")
}

func (s *templatesStep) resource(lt *ec2types.LaunchTemplate, role string, mine bool) record.Resource {
	return record.Resource{Type: "AWS::EC2::LaunchTemplate", ID: aws.ToString(lt.LaunchTemplateId), Region: s.spec.Region, CreatedByUs: mine,
		Tags: map[string]string{naming.TagWorkload: s.spec.Workload, naming.TagRole: role}, Attrs: map[string]string{"name": aws.ToString(lt.LaunchTemplateName)}}
}

func (s *templatesStep) Find(ctx context.Context, env apply.Env) (apply.Result, bool, error) {
	res := apply.Result{Outputs: map[string]string{}}
	for _, role := range []string{naming.RolePrimary, naming.RoleRecovery} {
		lt, err := s.describe(ctx, naming.LaunchTemplate(s.spec.Workload, role))
		if err != nil || lt == nil {
			return apply.Result{}, false, err
		}
		if tagMap(lt.Tags)[apply.TagSetup] != env.Token {
			return apply.Result{}, false, nil // not this setup's: Do says what to do
		}
		res.Resources = append(res.Resources, s.resource(lt, role, true))
		res.Outputs[role+".id"] = aws.ToString(lt.LaunchTemplateId)
		res.Outputs[role+".version"] = strconv.FormatInt(aws.ToInt64(lt.LatestVersionNumber), 10)
	}
	return res, true, nil
}

func (s *templatesStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	res := apply.Result{Outputs: map[string]string{}}
	ud, err := AppliedUserData(s.spec, s.identity, env.Prior)
	if err != nil {
		return res, err
	}
	if want := env.Prior.Output(StepRender, "sha256"); want != "" && want != sha(ud) {
		return res, fmt.Errorf("the user data renders differently than when it was journaled (sha256 %s, now %s): abort this setup and run it again", want, sha(ud))
	}
	res.Outputs["user-data.sha256"] = sha(ud)
	for _, role := range []string{naming.RolePrimary, naming.RoleRecovery} {
		name := naming.LaunchTemplate(s.spec.Workload, role)
		if lt, err := s.describe(ctx, name); err != nil {
			return res, err
		} else if lt != nil {
			if tagMap(lt.Tags)[apply.TagSetup] != env.Token {
				return res, &outposts.Problem{Field: "launch template " + name, What: "it exists and was not written by this setup",
					Fix: "delete it (aws ec2 delete-launch-template --launch-template-name " + name + ") if it is a leftover, or pick another workload name"}
			}
			res.Resources = append(res.Resources, s.resource(lt, role, true))
			res.Outputs[role+".id"] = aws.ToString(lt.LaunchTemplateId)
			res.Outputs[role+".version"] = strconv.FormatInt(aws.ToInt64(lt.LatestVersionNumber), 10)
			continue
		}
		subnet := s.spec.Outposts.PrimarySubnet
		if role == naming.RoleRecovery {
			subnet = s.spec.Outposts.SecondarySubnet
		}
		t, err := outposts.NewLaunchTemplate(outposts.TemplateInput{Workload: s.spec.Workload, Role: role, SubnetID: subnet,
			ImageID: s.spec.Instance.HelperAMI, InstanceType: s.spec.Instance.Type, KeyName: s.spec.Instance.KeyPair,
			SecurityGroup: s.spec.Instance.SecurityGroup, InstanceProfile: s.spec.Instance.InstanceProfile, UserData: ud})
		if err != nil {
			return res, err
		}
		in := t.CreateInput()
		in.ClientToken = aws.String(env.Token + "-lt-" + role)
		for i := range in.TagSpecifications {
			in.TagSpecifications[i].Tags = append(in.TagSpecifications[i].Tags, ec2types.Tag{Key: aws.String(apply.TagSetup), Value: aws.String(env.Token)})
		}
		out, err := s.ec2.CreateLaunchTemplate(ctx, in)
		if err != nil {
			return res, fmt.Errorf("write launch template %s (ec2:CreateLaunchTemplate): %w", name, err)
		}
		res.Resources = append(res.Resources, s.resource(out.LaunchTemplate, role, true))
		res.Outputs[role+".id"] = aws.ToString(out.LaunchTemplate.LaunchTemplateId)
		res.Outputs[role+".version"] = strconv.FormatInt(aws.ToInt64(out.LaunchTemplate.LatestVersionNumber), 10)
	}
	return res, nil
}

func (s *templatesStep) Undo(ctx context.Context, r apply.Result) error {
	for _, x := range r.Resources {
		_, err := s.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(x.ID)})
		if err != nil && !awsx.IsNotFound(err) && !isLTNotFound(err) {
			return fmt.Errorf("delete launch template %s (ec2:DeleteLaunchTemplate): %w", x.ID, err)
		}
	}
	return nil
}

// ---- 5. Helper launch ----

type helperStep struct {
	ec2           SetupEC2
	spec          *spec.Spec
	clock         outposts.Clock
	timeout, poll time.Duration
}

func (s *helperStep) Name() string { return StepHelper }

func (s *helperStep) resource(id string, mine bool) record.Resource {
	return record.Resource{Type: "AWS::EC2::Instance", ID: id, Region: s.spec.Region, CreatedByUs: mine,
		Tags: map[string]string{naming.TagWorkload: s.spec.Workload, naming.TagRole: naming.RolePrimary}}
}

// Find reports the helper done only when it runs; a pending one is left to
// Do, which finds it by its client token and waits for it.
func (s *helperStep) Find(ctx context.Context, env apply.Env) (apply.Result, bool, error) {
	inst, err := outposts.FindHelper(ctx, s.ec2, s.spec.Workload, outposts.HelperClientToken(s.spec.Workload, env.Token))
	if err != nil || inst == nil {
		return apply.Result{}, false, err
	}
	if inst.State == nil || inst.State.Name != ec2types.InstanceStateNameRunning {
		return apply.Result{}, false, nil
	}
	id := aws.ToString(inst.InstanceId)
	// Running is not enough: a helper whose checks failed (the iPXE boot
	// failed) is not done; Do finds it by its client token and reports why.
	st, err := s.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	if err != nil {
		return apply.Result{}, false, fmt.Errorf("read the helper's status checks (ec2:DescribeInstanceStatus): %w", err)
	}
	if len(st.InstanceStatuses) != 1 || !checksOK(st.InstanceStatuses[0]) {
		return apply.Result{}, false, nil
	}
	mine := tagMap(inst.Tags)[apply.TagSetup] == env.Token
	return apply.Result{Resources: []record.Resource{s.resource(id, mine)}, Outputs: map[string]string{"instance-id": id}}, true, nil
}

func checksOK(st ec2types.InstanceStatus) bool {
	return st.InstanceStatus != nil && st.InstanceStatus.Status == ec2types.SummaryStatusOk &&
		st.SystemStatus != nil && st.SystemStatus.Status == ec2types.SummaryStatusOk
}

func (s *helperStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	r, err := outposts.LaunchHelper(ctx, s.ec2, outposts.HelperInput{
		Workload: s.spec.Workload, ClientToken: outposts.HelperClientToken(s.spec.Workload, env.Token),
		Tags:    map[string]string{apply.TagSetup: env.Token},
		Version: env.Prior.Output(StepTemplates, naming.RolePrimary+".version"),
		Timeout: s.timeout, Poll: s.poll, Clock: s.clock,
	})
	if r.InstanceID == "" {
		return apply.Result{}, err
	}
	mine := !r.Found
	if r.Found {
		out, derr := s.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.InstanceID}})
		if derr != nil {
			return apply.Result{}, errors.Join(err, derr)
		}
		for _, rv := range out.Reservations {
			for _, in := range rv.Instances {
				mine = tagMap(in.Tags)[apply.TagSetup] == env.Token
			}
		}
	}
	return apply.Result{Resources: []record.Resource{s.resource(r.InstanceID, mine)}, Outputs: map[string]string{"instance-id": r.InstanceID}}, err
}

func (s *helperStep) Undo(ctx context.Context, r apply.Result) error {
	var ids []string
	for _, x := range r.Resources {
		ids = append(ids, x.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := s.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil && !awsx.IsNotFound(err) {
		return fmt.Errorf("terminate the helper %s (ec2:TerminateInstances): %w", strings.Join(ids, ", "), err)
	}
	return nil
}

// ---- 6. Function bundle and recovery stack ----

type stackStep struct {
	deps stack.Deps
	spec *spec.Spec
}

func (s *stackStep) Name() string { return StepStack }

func (s *stackStep) config(instance string) (stack.Config, error) {
	p, err := recovery.ParsePolicy(s.spec.Failover.Policy)
	if err != nil {
		return stack.Config{}, err
	}
	return stack.Config{
		Workload: s.spec.Workload, Region: s.spec.Region, Policy: p,
		AlarmPeriods: s.spec.Failover.DetectionPeriods, AlarmDatapoints: s.spec.Failover.DatapointsToAlarm,
		NotificationEmail: s.spec.Failover.NotificationEmail, InstanceProfileRole: instanceRole(s.spec),
		PrimaryOutpostID: s.spec.Outposts.PrimaryOutpost, SecondaryOutpostID: s.spec.Outposts.SecondaryOutpost,
		PrimaryInstanceID: instance,
	}, nil
}

func (s *stackStep) describe(ctx context.Context) (*cloudformation.DescribeStacksOutput, error) {
	out, err := s.deps.CFN.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack.StackName(s.spec.Workload))})
	var ae smithy.APIError
	if err != nil && errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.HasSuffix(ae.ErrorMessage(), "does not exist") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for stack %s (cloudformation:DescribeStacks): %w", stack.StackName(s.spec.Workload), err)
	}
	if len(out.Stacks) == 0 || out.Stacks[0].StackStatus == "DELETE_COMPLETE" {
		return nil, nil
	}
	return out, nil
}

func (s *stackStep) resource(id string, mine bool) record.Resource {
	return record.Resource{Type: "AWS::CloudFormation::Stack", ID: id, Region: s.spec.Region, CreatedByUs: mine,
		Tags: map[string]string{naming.TagWorkload: s.spec.Workload}, Attrs: map[string]string{"name": stack.StackName(s.spec.Workload)}}
}

// Find: a complete stack whose PrimaryInstanceId is the helper this setup
// launched can only have been deployed by this setup.
func (s *stackStep) Find(ctx context.Context, env apply.Env) (apply.Result, bool, error) {
	ds, err := s.describe(ctx)
	if err != nil || ds == nil {
		return apply.Result{}, false, err
	}
	st := ds.Stacks[0]
	if st.StackStatus != "CREATE_COMPLETE" && st.StackStatus != "UPDATE_COMPLETE" {
		return apply.Result{}, false, nil
	}
	instance := env.Prior.Output(StepHelper, "instance-id")
	for _, p := range st.Parameters {
		if aws.ToString(p.ParameterKey) == "PrimaryInstanceId" && aws.ToString(p.ParameterValue) == instance && instance != "" {
			mine := false
			for _, x := range env.Prior[StepHelper].Resources {
				mine = mine || (x.ID == instance && x.CreatedByUs)
			}
			// Deploy creates the stack or updates one that existed, and Find
			// runs before any second Deploy: a stack that was updated
			// (UPDATE_COMPLETE; LastUpdatedTime, which moto does not set)
			// existed before this setup, which only updated it.
			mine = mine && st.StackStatus == "CREATE_COMPLETE" && st.LastUpdatedTime == nil
			id := aws.ToString(st.StackId)
			return apply.Result{Resources: []record.Resource{s.resource(id, mine)},
				Outputs: map[string]string{"stack-id": id, "status": string(st.StackStatus), "primary-instance-id": instance}}, true, nil
		}
	}
	return apply.Result{}, false, nil
}

func (s *stackStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	instance := env.Prior.Output(StepHelper, "instance-id")
	c, err := s.config(instance)
	if err != nil {
		return apply.Result{}, err
	}
	before, err := s.describe(ctx)
	if err != nil {
		return apply.Result{}, err
	}
	out, err := stack.Deploy(ctx, s.deps, c)
	var res apply.Result
	if out.StackID != "" {
		res.Resources = append(res.Resources, s.resource(out.StackID, before == nil))
	}
	if out.BundleBucket != "" {
		// The bundle bucket and its content-addressed objects are shared by
		// every workload of the account and Region: listed, never removed.
		res.Resources = append(res.Resources, record.Resource{Type: "AWS::S3::Object", ID: out.BundleBucket + "/" + out.BundleKey, Region: s.spec.Region})
	}
	res.Outputs = map[string]string{"stack-id": out.StackID, "status": out.Status, "primary-instance-id": instance,
		"function": out.FunctionName, "topic": out.TopicArn, "bundle": out.BundleBucket + "/" + out.BundleKey}
	return res, err
}

func (s *stackStep) Undo(ctx context.Context, r apply.Result) error {
	if len(r.Resources) == 0 {
		return nil
	}
	return stack.Delete(ctx, s.deps, s.spec.Workload)
}
