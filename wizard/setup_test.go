package wizard_test

// Unit tests of setup's pieces that need no AWS: the array step against the
// FlashArray MODEL (setup_puremodel_test.go: the real pure client over HTTPS
// to an in-memory model of the REST API, not a mock), the user data rendered
// with the array's values, and the refusal without confirmation. The whole
// apply against moto is in setup_integration_test.go.

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/pure"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

const pureIQN = "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60"

func unitAnswers(w string) []byte {
	return []byte(`workload: ` + w + `
region: us-west-2
storage:
  vendor: pure
  protocol: iscsi
  management:
    endpoint: https://array.example.com
    credentials:
      env: OHA_PURE_TOKEN
  boot:
    volume: web01-boot
    target: iqn.2010-06.com.example:typed-not-real
    portals: ["192.0.2.10"]
    lun: 1
  data:
    - volume: web01-data
identity:
  uuid: 3f0c7a52-9d1e-4b8a-8c6f-2a4e1b7d9c03
outposts:
  primary_subnet: subnet-0123456789abcdef0
  secondary_subnet: subnet-0fedcba9876543210
  primary_outpost: op-0123456789abcdef0
  secondary_outpost: op-0fedcba9876543210
instance:
  type: c6id.xlarge
  helper_ami: ami-0123456789abcdef0
  security_group: sg-0123456789abcdef0
  instance_profile: oha-web01
failover:
  policy: confirmed
  notification_email: ops@example.com
`)
}

func unitSpec(t *testing.T, w string) (*spec.Spec, wizard.Identity) {
	t.Helper()
	s, err := spec.Parse(unitAnswers(w))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	id, err := wizard.DeriveIdentity(s, uuid.MustParse(s.Identity.UUID))
	require.NoError(t, err)
	return s, id
}

func modelArray(t *testing.T, m *pmModel) storage.Array {
	t.Helper()
	srv, ca := m.start(t)
	hc, _, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: ca, Timeout: 10 * time.Second})
	require.NoError(t, err)
	tr := hc.Transport.(*http.Transport).Clone()
	addr := strings.TrimPrefix(srv.URL, "https://")
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	hc.Transport = tr
	arr, err := pure.New(pure.Config{Endpoint: "https://example.com", Credentials: storage.Credentials{Secret: m.token}, HTTP: hc})
	require.NoError(t, err)
	return arr
}

// arrayDo runs the two array steps as the runner would (the host step's
// result is the map step's Prior) and returns both results.
func arrayDo(t *testing.T, arr storage.Array, s *spec.Spec, id wizard.Identity) (host, maps apply.Result) {
	t.Helper()
	hs, ms := wizard.ArraySteps(arr, s, id)
	ctx := context.Background()
	host, err := hs.Do(ctx, apply.Env{Token: "tok"})
	require.NoError(t, err)
	maps, err = ms.Do(ctx, apply.Env{Token: "tok", Prior: apply.Results{wizard.StepArrayHost: host}})
	require.NoError(t, err)
	return host, maps
}

// arrayUndo undoes both in reverse, given only what is setup's.
func arrayUndo(t *testing.T, arr storage.Array, s *spec.Spec, id wizard.Identity, host, maps apply.Result) {
	t.Helper()
	hs, ms := wizard.ArraySteps(arr, s, id)
	require.NoError(t, ms.Undo(context.Background(), mine(maps)))
	require.NoError(t, hs.Undo(context.Background(), mine(host)))
}

func mine(r apply.Result) apply.Result {
	var out apply.Result
	for _, x := range r.Resources {
		if x.CreatedByUs {
			out.Resources = append(out.Resources, x)
		}
	}
	return out
}

func TestArrayStepReadsBackWhatTheArrayAssigned(t *testing.T) {
	m := pmNewModel()
	m.firstLUN = 7
	s, id := unitSpec(t, "web01")
	arr := modelArray(t, m)
	volsBefore := len(m.vols)

	host, res := arrayDo(t, arr, s, id)
	assert.Equal(t, "7", res.Outputs["boot.lun"], "the LUN the array assigned, not the typed 1")
	assert.Equal(t, "8", res.Outputs["data.0.lun"])
	assert.Equal(t, pureIQN, res.Outputs["target"])
	assert.Contains(t, res.Outputs["portals"], "192.168.50.20:3260")
	require.Len(t, m.hosts, 1)
	assert.Equal(t, naming.ArrayHost("web01"), m.hosts[0].name)
	assert.Equal(t, []string{id.InitiatorIQN}, m.hosts[0].iqns)
	require.Len(t, m.conns, 2)
	var created []string
	for _, x := range append(host.Resources, res.Resources...) {
		if x.CreatedByUs {
			created = append(created, x.Type)
		}
	}
	assert.ElementsMatch(t, []string{wizard.ResArrayHost, wizard.ResArrayMapping, wizard.ResArrayMapping}, created, "volumes are never setup's")

	// Again (the host step journaled as before): nothing new on the array.
	_, ms := wizard.ArraySteps(arr, s, id)
	again, err := ms.Do(context.Background(), apply.Env{Token: "tok", Prior: apply.Results{wizard.StepArrayHost: host}})
	require.NoError(t, err)
	assert.Equal(t, res.Outputs, again.Outputs)
	assert.Len(t, m.hosts, 1)
	assert.Len(t, m.conns, 2)

	arrayUndo(t, arr, s, id, host, res)
	assert.Empty(t, m.hosts)
	assert.Empty(t, m.conns)
	assert.Len(t, m.vols, volsBefore, "no volume deleted")
	for _, v := range m.vols {
		if v.name == "web01-boot" || v.name == "web01-data" {
			assert.False(t, v.destroyed)
		}
	}
}

// A crash after the host step, inside the maps: the maps never reached the
// journal. Undoing the host alone still removes them (a map on setup's host
// is setup's) before deleting the host.
func TestArrayHostUndoRemovesUnjournaledMaps(t *testing.T) {
	m := pmNewModel()
	s, id := unitSpec(t, "web01")
	arr := modelArray(t, m)
	host, _ := arrayDo(t, arr, s, id)
	require.Len(t, m.conns, 2)
	hs, _ := wizard.ArraySteps(arr, s, id)
	require.NoError(t, hs.Undo(context.Background(), mine(host)))
	assert.Empty(t, m.hosts)
	assert.Empty(t, m.conns)
}

func TestArrayStepLeavesAHostItDidNotCreate(t *testing.T) {
	m := pmNewModel()
	s, id := unitSpec(t, "web01")
	m.hosts = append(m.hosts, &pmHost{name: naming.ArrayHost("web01"), iqns: []string{id.InitiatorIQN}})
	host, res := arrayDo(t, modelArray(t, m), s, id)
	assert.Empty(t, mine(host).Resources, "a host that existed is not setup's to undo")
	assert.Empty(t, mine(res).Resources, "nor its maps")
}

func TestAppliedUserDataCarriesTheArraysValues(t *testing.T) {
	s, id := unitSpec(t, "web01")
	prior := apply.Results{wizard.StepArray: {Outputs: map[string]string{
		"boot.lun": "7", "data.0.lun": "8", "target": pureIQN, "portals": "192.168.50.20:3260,192.168.50.21:3260"}}}
	ud, err := wizard.AppliedUserData(s, id, prior)
	require.NoError(t, err)
	assert.Contains(t, string(ud), ":7:"+pureIQN)
	assert.NotContains(t, string(ud), "typed-not-real")
	assert.NotContains(t, string(ud), "192.0.2.10")

	_, err = wizard.AppliedUserData(s, id, apply.Results{})
	require.Error(t, err, "no LUN journaled: refuse rather than render the typed one")
}

func TestSetupWithoutConfirmationCreatesNothing(t *testing.T) {
	s, id := unitSpec(t, "web01")
	// No clients at all: any AWS or array call would panic.
	_, err := wizard.Setup(context.Background(), wizard.SetupOptions{Spec: s, Identity: id, Answers: unitAnswers("web01")})
	require.ErrorIs(t, err, wizard.ErrNotConfirmed)
	var pe *wizard.PreflightError
	assert.ErrorAs(t, err, &pe)
}

// The generic vendor has no array API: the typed targets and LUNs are the
// truth, data volumes on their own targets included.
func TestAppliedUserDataGenericKeepsTheTypedValues(t *testing.T) {
	s, err := spec.LoadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-advanced.yaml"))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	id, err := wizard.DeriveIdentity(s, uuid.MustParse(s.Identity.UUID))
	require.NoError(t, err)
	ud, err := wizard.AppliedUserData(s, id, apply.Results{wizard.StepArray: {Outputs: map[string]string{"boot.lun": "0"}}})
	require.NoError(t, err)
	plan, err := wizard.Render(s, id, wizard.FromAnswers)
	require.NoError(t, err)
	assert.Equal(t, string(plan.File("user-data/user-data.txt")), string(ud), "exactly what plan renders from the typed values (data volume on its own target included)")
}

// NVMe/TCP: the host carries the workload's host NQN and the target read
// back is the array's subsystem NQN with its NVMe portal.
func TestArrayStepNVMe(t *testing.T) {
	m := pmNewModel()
	s, id := unitSpec(t, "web01")
	s.Storage.Protocol = "nvme-tcp"
	arr := modelArray(t, m)
	host, res := arrayDo(t, arr, s, id)
	require.Len(t, m.hosts, 1)
	assert.Equal(t, []string{id.HostNQN}, m.hosts[0].nqns)
	assert.Empty(t, m.hosts[0].iqns)
	assert.Equal(t, "nqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", res.Outputs["target"])
	assert.Equal(t, "192.168.60.20:4420", res.Outputs["portals"])
	arrayUndo(t, arr, s, id, host, res)
	assert.Empty(t, m.hosts)
	assert.Empty(t, m.conns)
}
