package alletra_test

// Contract tests: the real client speaks HTTPS to the WSAPI model in
// model_test.go (a modelled API on loopback, not hardware and not a fake behind
// an interface).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/alletra"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const (
	initiatorIQN = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	otherIQN     = "iqn.1994-05.com.redhat:legacy-host-01"
	hostNQN      = "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	portIQN0     = "iqn.2000-05.com.3pardata:20310002ac01e34f"
	portIQN1     = "iqn.2000-05.com.3pardata:21310002ac01e34f"
	subsysNQN    = "nqn.2020-07.com.hpe:ac01e34f-3a6b-4c2e-9d1f-2b7e1c0a9f33"
	nodeWWN      = "2FF70002AC01E34F"
	hostName     = "ohaweb01"
)

var spec = storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: storage.Linux}

// fixture: volumes of every provisioning type plus a snapshot, two READY
// iSCSI ports and a down one, NVMe ports (one without IPAddr), an FC port, and
// an array that picks LUN 26 on its own.
func fixture(m *hpModel) {
	m.addVolume("web01-boot", 20480, 2) // TPVV
	m.addVolume("web01-data", 102400, 1)
	m.addVolume("db02-boot", 20480, 6) // TDVV, the only type the reference tool showed
	m.addVolume("archive", 512000, 2)
	m.volumes = append(m.volumes, &hVol{ID: 900, Name: "web01-boot-old", SizeMiB: 20480, ProvisioningType: 3, CopyType: 3, CopyOf: "web01-boot"})
	m.ports = []hPort{
		{Node: 1, Slot: 3, CardPort: 1, Protocol: 2, LinkState: 4, IPAddr: "192.168.50.21", ISCSIName: portIQN1},
		{Node: 0, Slot: 3, CardPort: 1, Protocol: 2, LinkState: 4, IPAddr: "192.168.50.20", ISCSIName: portIQN0},
		{Node: 0, Slot: 3, CardPort: 2, Protocol: 2, LinkState: 5, IPAddr: "192.168.50.22", ISCSIName: "iqn.2000-05.com.3pardata:20320002ac01e34f"},
		{Node: 0, Slot: 1, CardPort: 1, Protocol: 1, LinkState: 4, NodeWWN: "2FF70002AC01E34E"},
		{Node: 0, Slot: 4, CardPort: 1, Protocol: 6, LinkState: 4, IPAddr: "192.168.60.20", NodeWWN: nodeWWN},
		{Node: 1, Slot: 4, CardPort: 1, Protocol: 6, LinkState: 4, IPAddr: "192.168.60.21", NodeWWN: nodeWWN},
		{Node: 1, Slot: 4, CardPort: 2, Protocol: 6, LinkState: 4, NodeWWN: nodeWWN},
	}
	m.autoLUNBase = 26
	m.subsysNQN = subsysNQN
}

type env struct {
	m   *hpModel
	srv *httptest.Server
	url string
	ca  string
}

func start(t *testing.T, setup ...func(*hpModel)) env {
	t.Helper()
	m := newModel(t)
	fixture(m)
	for _, s := range setup {
		s(m)
	}
	srv, ca := storagetest.TLSServer(t, m.handler())
	return env{m: m, srv: srv, url: srv.URL, ca: ca}
}

func (e env) client(t *testing.T, opts ...func(*alletra.Config)) *alletra.Client {
	t.Helper()
	hc, warn, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: e.ca})
	require.NoError(t, err)
	require.Empty(t, warn)
	cfg := alletra.Config{Endpoint: e.url, Credentials: storage.Credentials{Username: e.m.user, Secret: e.m.password}, HTTP: hc}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := alletra.New(cfg)
	require.NoError(t, err)
	return c
}

type setupResult struct {
	vols   []storage.Volume
	host   storage.Host
	mapped storage.Mapping
	target storage.Target
}

// runSetup is the wizard's array sequence: login, volumes, ensure host, map,
// target discovery, and a deferred logout that runs on failure too.
func runSetup(ctx context.Context, c *alletra.Client, hs storage.HostSpec, lun int) (res setupResult, err error) {
	if err := c.Login(ctx); err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, c.Logout(ctx)) }()
	if res.vols, err = c.Volumes(ctx); err != nil {
		return res, err
	}
	boot := storage.Volume{ID: "web01-boot", Name: "web01-boot"}
	if res.host, err = c.EnsureHost(ctx, hs); err != nil {
		return res, err
	}
	if res.mapped, err = c.Map(ctx, res.host, boot, lun); err != nil {
		return res, err
	}
	res.target, err = c.Target(ctx, hs.Protocol)
	return res, err
}

func TestSetupSequence(t *testing.T) {
	e := start(t)
	res, err := runSetup(t.Context(), e.client(t), spec, -1)
	require.NoError(t, err)

	assert.Equal(t, []storage.Volume{
		{ID: "archive", Name: "archive", SizeBytes: 512000 << 20},
		{ID: "db02-boot", Name: "db02-boot", SizeBytes: 20480 << 20},
		{ID: "web01-boot", Name: "web01-boot", SizeBytes: 20480 << 20},
		{ID: "web01-data", Name: "web01-data", SizeBytes: 102400 << 20},
	}, res.vols, "every provisioning type, no snapshots")

	assert.Equal(t, storage.Host{ID: hostName, Name: hostName, Initiators: []string{initiatorIQN}, Created: true}, res.host)
	assert.Equal(t, 26, res.mapped.LUN, "the LUN is the array's, read back")
	assert.Equal(t, hostName, res.mapped.HostID)
	assert.Equal(t, storage.Target{Name: portIQN0, Protocol: storage.ISCSI,
		Endpoints: []storage.Endpoint{{Address: "192.168.50.20", Port: 3260}}}, res.target)

	var portals []sanboot.Portal
	for _, ep := range res.target.Endpoints {
		portals = append(portals, sanboot.Portal{Addr: netip.MustParseAddr(ep.Address), Port: uint16(ep.Port)})
	}
	script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiatorIQN, TargetIQN: res.target.Name,
		Portals: portals, LUN: res.mapped.LUN, LNI: &sanboot.LNI{Index: 1}})
	require.NoError(t, err)
	assert.Contains(t, string(script), ":1a:")
	assert.Contains(t, string(script), "iscsi:192.168.50.20::3260:1a:"+portIQN0)

	hosts, vluns, _ := e.m.state()
	require.Len(t, hosts, 1)
	assert.Equal(t, hHost{ID: hosts[0].ID, Name: hostName, Persona: 2, OS: "Linux", ISCSI: []string{initiatorIQN}}, hosts[0],
		"persona 2 (Generic-ALUA) for Linux")
	assert.Equal(t, []hVLUN{{Vol: "web01-boot", Host: hostName, LUN: 26}}, vluns)
	assert.Equal(t, 0, e.m.activeSessions(), "logged out")
	assert.Equal(t, 1, e.m.logins)
	assert.Equal(t, 1, e.m.logouts)
}

func TestSetupIsIdempotent(t *testing.T) {
	e := start(t)
	first, err := runSetup(t.Context(), e.client(t), spec, -1)
	require.NoError(t, err)
	second, err := runSetup(t.Context(), e.client(t), spec, -1)
	require.NoError(t, err)

	assert.True(t, first.host.Created)
	assert.False(t, second.host.Created)
	assert.Equal(t, first.mapped.LUN, second.mapped.LUN)
	hosts, vluns, _ := e.m.state()
	assert.Len(t, hosts, 1)
	assert.Len(t, vluns, 1)
	assert.Equal(t, 1, e.m.count("POST /api/v1/hosts"))
	assert.Equal(t, 1, e.m.count("POST /api/v1/vluns"))
	assert.Equal(t, 0, e.m.activeSessions())
}

func TestEnsureHost(t *testing.T) {
	pre := func(h hHost) func(*hpModel) {
		return func(m *hpModel) { h.ID = m.id(); m.hosts = append(m.hosts, &h) }
	}
	ours := hHost{Name: hostName, Persona: 2, OS: "Linux", ISCSI: []string{initiatorIQN}}
	tests := []struct {
		name     string
		setup    func(*hpModel)
		spec     storage.HostSpec
		kind     storage.Kind // KindUnknown means success
		created  bool
		want     *hHost // the host named spec.Name afterwards, ID ignored
		hostPOST int
	}{
		{name: "new linux host", setup: func(*hpModel) {}, spec: spec, created: true, want: &ours, hostPOST: 1},
		{name: "new windows host", setup: func(*hpModel) {}, created: true, hostPOST: 1,
			spec: storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: storage.Windows},
			want: &hHost{Name: hostName, Persona: 11, OS: "Windows", ISCSI: []string{initiatorIQN}}},
		{name: "new nvme host", setup: func(*hpModel) {}, created: true, hostPOST: 1,
			spec: storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP, OS: storage.Linux},
			want: &hHost{Name: hostName, OS: "Linux", NQN: hostNQN, TransportType: 2}},
		{name: "already exists", setup: pre(ours), spec: spec, want: &ours},
		{name: "already exists, created by someone else after the lookup", spec: spec, want: &ours, hostPOST: 1,
			setup: func(m *hpModel) { pre(ours)(m); m.hideHostOnce = hostName }},
		{name: "exists without the initiator", spec: spec, want: &ours,
			setup: pre(hHost{Name: hostName, Persona: 2, OS: "Linux"})},
		{name: "exists with a foreign initiator", spec: spec, kind: storage.KindInvalid,
			setup: pre(hHost{Name: hostName, Persona: 2, ISCSI: []string{otherIQN}}),
			want:  &hHost{Name: hostName, Persona: 2, ISCSI: []string{otherIQN}}},
		{name: "initiator belongs to another host", spec: spec, kind: storage.KindInvalid, hostPOST: 1,
			setup: pre(hHost{Name: "legacy", Persona: 2, ISCSI: []string{initiatorIQN}})},
		{name: "nvme host exists with another NQN", kind: storage.KindInvalid,
			spec:  storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP},
			setup: pre(hHost{Name: hostName, NQN: "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001", TransportType: 2}),
			want:  &hHost{Name: hostName, NQN: "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001", TransportType: 2}},
		{name: "name too long", setup: func(*hpModel) {}, kind: storage.KindInvalid,
			spec: storage.HostSpec{Name: "a-host-name-longer-than-31-characters", Initiator: initiatorIQN, Protocol: storage.ISCSI}},
		{name: "name with a path separator", setup: func(*hpModel) {}, kind: storage.KindInvalid,
			spec: storage.HostSpec{Name: "../credentials", Initiator: initiatorIQN, Protocol: storage.ISCSI}},
		{name: "nvme protocol with an IQN", setup: func(*hpModel) {}, kind: storage.KindInvalid,
			spec: storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.NVMeTCP}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.setup)
			h, err := e.client(t).EnsureHost(t.Context(), tc.spec)
			if tc.kind != storage.KindUnknown {
				require.Error(t, err)
				assert.Equal(t, tc.kind, storage.KindOf(err), "%v", err)
				assert.NotErrorIs(t, err, storage.ErrAlreadyExists, "a conflict callers would absorb must not look like 'already exists'")
			} else {
				require.NoError(t, err)
				assert.Equal(t, storage.Host{ID: hostName, Name: hostName, Initiators: []string{tc.spec.Initiator}, Created: tc.created}, h)
			}
			assert.Equal(t, tc.hostPOST, e.m.count("POST /api/v1/hosts"))
			hosts, _, _ := e.m.state()
			var got *hHost
			for _, mh := range hosts {
				if mh.Name == tc.spec.Name {
					require.Nil(t, got, "exactly one host with the name")
					mh.ID = 0
					got = &mh
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMapLUN(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name    string
		lun     int
		kind    storage.Kind
		wantLUN int
		posts   int
	}{
		{name: "array chooses", lun: -1, wantLUN: 26, posts: 1},
		{name: "requested LUN free", lun: 7, wantLUN: 7, posts: 1},
		{name: "requested LUN taken", lun: 3, kind: storage.KindLUNConflict},
		{name: "LUN out of range", lun: 16384, kind: storage.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			h, err := c.EnsureHost(ctx, spec)
			require.NoError(t, err)
			// Another volume already sits at LUN 3 on this host.
			_, err = c.Map(ctx, h, storage.Volume{ID: "web01-data", Name: "web01-data"}, 3)
			require.NoError(t, err)
			before := e.m.count("POST /api/v1/vluns")

			boot := storage.Volume{ID: "web01-boot", Name: "web01-boot"}
			m, err := c.Map(ctx, h, boot, tc.lun)
			assert.Equal(t, tc.posts, e.m.count("POST /api/v1/vluns")-before)
			if tc.kind != storage.KindUnknown {
				require.Error(t, err)
				assert.Equal(t, tc.kind, storage.KindOf(err), "%v", err)
				if tc.kind == storage.KindLUNConflict {
					assert.ErrorIs(t, err, storage.ErrLUNConflict)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantLUN, m.LUN)
			again, err := c.Map(ctx, h, boot, -1)
			require.NoError(t, err)
			assert.Equal(t, tc.wantLUN, again.LUN, "a re-run returns the existing LUN")
			_, vluns, _ := e.m.state()
			assert.Len(t, vluns, 2)
		})
	}
}

func TestLoginFailure(t *testing.T) {
	e := start(t)
	c := e.client(t, func(cfg *alletra.Config) { cfg.Credentials.Secret = "wrong-Secret-77" })
	err := c.Login(t.Context())
	require.Error(t, err)
	assert.ErrorIs(t, err, storage.ErrAuth)
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "5", se.Code)
	assert.NotContains(t, err.Error(), "wrong-Secret-77")
	_, err = c.Volumes(t.Context())
	assert.ErrorIs(t, err, storage.ErrAuth)
	assert.Equal(t, 0, e.m.activeSessions())
	assert.NoError(t, c.Logout(t.Context()), "logout without a session is a no-op")
}

func TestSessionExpiresMidRun(t *testing.T) {
	for _, after := range []int{1, 3, 6} {
		t.Run(fmt.Sprintf("after %d calls", after), func(t *testing.T) {
			e := start(t, func(m *hpModel) { m.expireAfter = after })
			res, err := runSetup(t.Context(), e.client(t), spec, -1)
			require.NoError(t, err)
			assert.Equal(t, 26, res.mapped.LUN)
			assert.True(t, e.m.expired, "the model did expire the session")
			assert.Equal(t, 2, e.m.logins, "one re-login")
			assert.Equal(t, 1, e.m.logouts, "the new session is closed")
			assert.Equal(t, 0, e.m.activeSessions())
			hosts, vluns, _ := e.m.state()
			assert.Len(t, hosts, 1)
			assert.Len(t, vluns, 1)
		})
	}
}

// TestLogoutAfterFailure: a step fails and the caller's context is already
// cancelled, yet the deferred Logout still deletes the WSAPI session.
func TestLogoutAfterFailure(t *testing.T) {
	e := start(t, func(m *hpModel) {
		m.hosts = append(m.hosts, &hHost{ID: 1, Name: "legacy", ISCSI: []string{initiatorIQN}})
	})
	c := e.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	err := func() (err error) {
		require.NoError(t, c.Login(ctx))
		defer func() { err = errors.Join(err, c.Logout(ctx)) }()
		_, err = c.EnsureHost(ctx, spec)
		cancel() // e.g. the operator pressed Ctrl-C while the error was shown
		return err
	}()
	require.Error(t, err)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
	assert.Equal(t, 0, e.m.activeSessions())
	assert.Equal(t, 1, e.m.logouts)
	assert.Equal(t, 1, e.m.count("DELETE /api/v1/credentials/"))
}

// TestTransportErrorsHideTheKey: the logout URL carries the session key, so a
// logout that gets no answer must not put the URL into its error.
func TestTransportErrorsHideTheKey(t *testing.T) {
	var logs bytes.Buffer
	e := start(t)
	c := e.client(t, func(cfg *alletra.Config) {
		cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	require.NoError(t, c.Login(t.Context()))
	e.srv.Close()
	err := c.Logout(t.Context())
	require.Error(t, err)
	assert.Equal(t, storage.KindTransient, storage.KindOf(err), "%v", err)
	require.Len(t, e.m.keys, 1)
	storagetest.NoSecret(t, e.m.keys[0], err.Error(), fmt.Sprintf("%#v", err), logs.String())
	storagetest.NoSecret(t, e.m.password, err.Error(), logs.String())
}

func TestTLS(t *testing.T) {
	otherCA := otherCAFile(t)
	tests := []struct {
		name string
		opts func(e env) storage.TLSOptions
		ok   bool
	}{
		{name: "private CA trusted", opts: func(e env) storage.TLSOptions { return storage.TLSOptions{CAFile: e.ca} }, ok: true},
		{name: "system roots only", opts: func(env) storage.TLSOptions { return storage.TLSOptions{} }},
		{name: "another CA", opts: func(env) storage.TLSOptions { return storage.TLSOptions{CAFile: otherCA} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			hc, _, err := storage.NewHTTPClient(tc.opts(e))
			require.NoError(t, err)
			c := e.client(t, func(cfg *alletra.Config) { cfg.HTTP = hc })
			err = c.Login(t.Context())
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, 1, e.m.activeSessions())
				require.NoError(t, c.Logout(t.Context()))
				assert.Equal(t, 0, e.m.activeSessions())
				return
			}
			require.Error(t, err)
			assert.NotErrorIs(t, err, storage.ErrAuth)
			assert.Contains(t, err.Error(), "--array-ca-file")
			assert.Empty(t, e.m.requests, "no request (and no password) reached the array")
		})
	}
}

func TestSnapshotUnmapDelete(t *testing.T) {
	ctx := t.Context()
	e := start(t)
	c := e.client(t)
	res, err := runSetup(ctx, c, spec, -1)
	require.NoError(t, err)
	boot := res.mapped.Volume

	s1, err := c.Snapshot(ctx, boot, "web01-boot-prefb")
	require.NoError(t, err)
	s2, err := c.Snapshot(ctx, boot, "web01-boot-prefb")
	require.NoError(t, err, "re-run returns the same snapshot")
	assert.Equal(t, storage.Snapshot{ID: "web01-boot-prefb", Name: "web01-boot-prefb", Volume: "web01-boot"}, s1)
	assert.Equal(t, s1, s2)
	_, err = c.Snapshot(ctx, boot, "web01-data") // a name taken by a volume that is not our snapshot
	assert.ErrorIs(t, err, storage.ErrAlreadyExists)
	_, _, vols := e.m.state()
	n := 0
	for _, v := range vols {
		if v.Name == "web01-boot-prefb" {
			n++
			assert.Equal(t, "web01-boot", v.CopyOf)
			assert.Equal(t, 3, v.CopyType)
		}
	}
	assert.Equal(t, 1, n)

	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.DeleteVolume(ctx, boot)), "an exported volume is refused")
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.DeleteHost(ctx, res.host)), "a host with exports is refused")

	for range 2 {
		require.NoError(t, c.Unmap(ctx, res.host, boot))
	}
	_, vluns, _ := e.m.state()
	assert.Empty(t, vluns)
	for range 2 {
		require.NoError(t, c.DeleteHost(ctx, res.host))
	}
	require.NoError(t, c.Unmap(ctx, res.host, boot), "unmap after the host is gone")
	hosts, _, _ := e.m.state()
	assert.Empty(t, hosts)
	for range 2 {
		require.NoError(t, c.DeleteVolume(ctx, boot))
	}
	_, _, vols = e.m.state()
	for _, v := range vols {
		assert.NotEqual(t, "web01-boot", v.Name)
	}
	require.NoError(t, c.Logout(ctx))
	assert.Equal(t, 0, e.m.activeSessions())
}

func TestTargets(t *testing.T) {
	ctx := t.Context()
	t.Run("iscsi, one target per ready port", func(t *testing.T) {
		e := start(t)
		ts, err := e.client(t).Targets(ctx, storage.ISCSI)
		require.NoError(t, err)
		assert.Equal(t, []storage.Target{
			{Name: portIQN0, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{{Address: "192.168.50.20", Port: 3260}}},
			{Name: portIQN1, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{{Address: "192.168.50.21", Port: 3260}}},
		}, ts, "the down port is left out")
	})
	t.Run("nvme uses IPAddr, never nodeWWN", func(t *testing.T) {
		e := start(t)
		nvme := storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP, OS: storage.Linux}
		res, err := runSetup(ctx, e.client(t), nvme, -1)
		require.NoError(t, err)
		assert.Equal(t, storage.Target{Name: subsysNQN, Protocol: storage.NVMeTCP, Endpoints: []storage.Endpoint{
			{Address: "192.168.60.20", Port: 4420}, {Address: "192.168.60.21", Port: 4420}}}, res.target)
		for _, ep := range res.target.Endpoints {
			assert.NotEqual(t, nodeWWN, ep.Address)
		}
	})
	t.Run("nvme before any export", func(t *testing.T) {
		e := start(t)
		_, err := e.client(t).Target(ctx, storage.NVMeTCP)
		require.Error(t, err)
		assert.NotErrorIs(t, err, storage.ErrUnsupported)
	})
	unsupported := []struct {
		name  string
		ports []hPort
		p     storage.Protocol
	}{
		{name: "nvme ports have only a nodeWWN", p: storage.NVMeTCP,
			ports: []hPort{{Node: 0, Slot: 4, CardPort: 1, Protocol: 6, LinkState: 4, NodeWWN: nodeWWN}}},
		{name: "no ready iscsi port", p: storage.ISCSI,
			ports: []hPort{{Node: 0, Slot: 3, CardPort: 1, Protocol: 2, LinkState: 5, IPAddr: "192.168.50.20", ISCSIName: portIQN0}}},
		{name: "unknown protocol", p: "fc"},
	}
	for _, tc := range unsupported {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, func(m *hpModel) { m.ports = tc.ports })
			c := e.client(t)
			_, err := c.TargetsForHost(ctx, tc.p, storage.Host{ID: hostName, Name: hostName})
			assert.ErrorIs(t, err, storage.ErrUnsupported)
		})
	}
}

func TestNew(t *testing.T) {
	creds := storage.Credentials{Username: "3paradm", Secret: "s3cret-Value"}
	tests := []struct {
		name string
		cfg  alletra.Config
		ok   bool
	}{
		{name: "ok", cfg: alletra.Config{Endpoint: "https://10.0.0.6", Credentials: creds}, ok: true},
		{name: "3par classic port", cfg: alletra.Config{Endpoint: "https://3par.example.net:8080/", Credentials: creds}, ok: true},
		{name: "empty endpoint", cfg: alletra.Config{Credentials: creds}},
		{name: "http", cfg: alletra.Config{Endpoint: "http://10.0.0.6:8008", Credentials: creds}},
		{name: "path", cfg: alletra.Config{Endpoint: "https://10.0.0.6/api/v1", Credentials: creds}},
		{name: "userinfo", cfg: alletra.Config{Endpoint: "https://u:p@10.0.0.6", Credentials: creds}},
		{name: "no password", cfg: alletra.Config{Endpoint: "https://10.0.0.6", Credentials: storage.Credentials{Username: "u"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := alletra.New(tc.cfg)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", tc.cfg)} {
				assert.NotContains(t, s, creds.Secret)
			}
		})
	}
}

// TestNoSecretLeaks runs every path (a failed login, a full setup with an
// expiring session, refused calls, teardown, logout) with debug logging and
// scans the logs and every error string for the password and session keys.
func TestNoSecretLeaks(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, func(m *hpModel) { m.expireAfter = 4 })
	withLog := func(cfg *alletra.Config) { cfg.Log = lg }
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}

	note(e.client(t, withLog, func(cfg *alletra.Config) { cfg.Credentials.Secret = e.m.password + "-typo" }).Login(ctx))

	c := e.client(t, withLog)
	res, err := runSetup(ctx, c, spec, -1)
	require.NoError(t, err)
	_, err = c.Map(ctx, res.host, storage.Volume{Name: "no-such-volume"}, -1)
	note(err)
	_, err = c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: otherIQN, Protocol: storage.ISCSI})
	note(err)
	note(c.DeleteHost(ctx, res.host))
	_, err = c.Snapshot(ctx, res.mapped.Volume, "web01-data")
	note(err)
	note(c.Unmap(ctx, res.host, res.mapped.Volume))
	note(c.DeleteHost(ctx, res.host))
	note(c.Logout(ctx))
	require.GreaterOrEqual(t, len(errs), 12, "the failing calls did fail")

	out := logs.String()
	require.Contains(t, out, "logged in to array")
	require.Contains(t, out, "array session expired")
	require.Contains(t, out, "/api/v1/credentials/<session-key>")
	texts := append([]string{out, fmt.Sprint(c), fmt.Sprintf("%#v", c)}, errs...)
	storagetest.NoSecret(t, e.m.password, texts...)
	storagetest.NoSecret(t, e.m.password+"-typo", texts...)
	require.GreaterOrEqual(t, len(e.m.keys), 2)
	for _, k := range e.m.keys {
		storagetest.NoSecret(t, k, texts...)
	}
	assert.NotContains(t, out, "X-HP3PAR-WSAPI-SessionKey")
}
