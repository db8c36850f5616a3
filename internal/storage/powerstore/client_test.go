package powerstore_test

// Contract tests: the real client speaks HTTPS to the PowerStore model in
// model_test.go (a modelled API on loopback, not hardware and not a fake behind
// an interface).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/powerstore"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const (
	initiatorIQN = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	otherIQN     = "iqn.1994-05.com.redhat:legacy-host-01"
	hostNQN      = "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	iqnNodeA     = "iqn.2015-10.com.dell:dellemc-powerstore-fnm00190700001-a-1b2c3d4e"
	iqnNodeB     = "iqn.2015-10.com.dell:dellemc-powerstore-fnm00190700001-b-5f6a7b8c"
	subsysNQN    = "nqn.1988-11.com.dell:powerstore:00:0a1b2c3d4e5f6a7b8c9d"
	hostName     = "ohaweb01"
	gib          = int64(1) << 30
)

var spec = storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: storage.Linux}

// fixture is an array with five volumes (three pages at the model's page size
// of two), two iSCSI nodes and an array that picks LUN 26 on its own.
func fixture(m *psModel) {
	for _, n := range []string{"web01-data", "web01-boot", "db02-boot", "archive", "scratch"} {
		m.addVolume(n, 20*gib)
	}
	m.addISCSIPortal("192.168.50.11", "IP_PORT_A", iqnNodeA)
	m.addISCSIPortal("192.168.50.10", "IP_PORT_A", iqnNodeA)
	m.addISCSIPortal("192.168.50.12", "IP_PORT_B", iqnNodeB)
	m.autoLUNBase = 26
}

type env struct {
	m   *psModel
	url string
	ca  string
}

func start(t *testing.T, setup ...func(*psModel)) env {
	t.Helper()
	m := newModel(t)
	fixture(m)
	for _, s := range setup {
		s(m)
	}
	srv, ca := storagetest.TLSServer(t, m.handler())
	return env{m: m, url: srv.URL, ca: ca}
}

func (e env) client(t *testing.T, opts ...func(*powerstore.Config)) *powerstore.Client {
	t.Helper()
	hc, warn, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: e.ca})
	require.NoError(t, err)
	require.Empty(t, warn)
	cfg := powerstore.Config{Endpoint: e.url, Credentials: storage.Credentials{Username: e.m.user, Secret: e.m.password}, HTTP: hc}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := powerstore.New(cfg)
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
// target discovery, logout (deferred, so it runs on failure too).
func runSetup(ctx context.Context, c *powerstore.Client, lun int) (res setupResult, err error) {
	if err := c.Login(ctx); err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, c.Logout(ctx)) }()
	if res.vols, err = c.Volumes(ctx); err != nil {
		return res, err
	}
	var boot storage.Volume
	for _, v := range res.vols {
		if v.Name == "web01-boot" {
			boot = v
		}
	}
	if res.host, err = c.EnsureHost(ctx, spec); err != nil {
		return res, err
	}
	if res.mapped, err = c.Map(ctx, res.host, boot, lun); err != nil {
		return res, err
	}
	res.target, err = c.Target(ctx, storage.ISCSI)
	return res, err
}

func renderBoot(t *testing.T, res setupResult) string {
	t.Helper()
	var portals []sanboot.Portal
	for _, ep := range res.target.Endpoints {
		portals = append(portals, sanboot.Portal{Addr: netip.MustParseAddr(ep.Address), Port: uint16(ep.Port)})
	}
	out, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiatorIQN, TargetIQN: res.target.Name,
		Portals: portals, LUN: res.mapped.LUN, LNI: &sanboot.LNI{Index: 1}})
	require.NoError(t, err)
	return string(out)
}

func TestSetupSequence(t *testing.T) {
	e := start(t)
	res, err := runSetup(t.Context(), e.client(t), -1)
	require.NoError(t, err)

	names := []string{}
	for _, v := range res.vols {
		names = append(names, v.Name)
		assert.Equal(t, 20*gib, v.SizeBytes)
	}
	assert.Equal(t, []string{"archive", "db02-boot", "scratch", "web01-boot", "web01-data"}, names)
	assert.Equal(t, 3, e.m.count("GET /api/rest/volume"), "five volumes at two per page take three pages")

	assert.True(t, res.host.Created)
	assert.NoError(t, uuid.Validate(res.host.ID))
	assert.Equal(t, 26, res.mapped.LUN, "the LUN is the array's, read back")
	assert.Equal(t, res.host.ID, res.mapped.HostID)
	assert.Equal(t, storage.Target{Name: iqnNodeA, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{
		{Address: "192.168.50.10", Port: 3260}, {Address: "192.168.50.11", Port: 3260}}}, res.target)

	script := renderBoot(t, res)
	assert.Contains(t, script, ":1a:")
	assert.Contains(t, script, "iscsi:192.168.50.10::3260:1a:"+iqnNodeA)

	hosts, maps, _ := e.m.snapshot()
	require.Len(t, hosts, 1)
	assert.Equal(t, mHost{ID: res.host.ID, Name: hostName, OSType: "Linux", Initiators: []mInit{{initiatorIQN, "iSCSI"}}}, hosts[0])
	require.Len(t, maps, 1)
	assert.Equal(t, 26, maps[0].LUN)
	assert.Equal(t, res.host.ID, maps[0].HostID)
	assert.Equal(t, 0, e.m.activeSessions(), "logged out")
	assert.Equal(t, 1, e.m.logins)
	assert.Equal(t, 1, e.m.logouts)
	assert.Equal(t, 0, e.m.basicOnAPI, "the password crosses the wire only at login")
}

func TestSetupIsIdempotent(t *testing.T) {
	e := start(t)
	first, err := runSetup(t.Context(), e.client(t), -1)
	require.NoError(t, err)
	second, err := runSetup(t.Context(), e.client(t), -1)
	require.NoError(t, err)

	assert.True(t, first.host.Created)
	assert.False(t, second.host.Created)
	assert.Equal(t, first.host.ID, second.host.ID)
	assert.Equal(t, first.mapped.LUN, second.mapped.LUN)
	hosts, maps, _ := e.m.snapshot()
	assert.Len(t, hosts, 1)
	assert.Len(t, maps, 1)
	assert.Equal(t, 1, e.m.count("POST /api/rest/host"))
	assert.Equal(t, 0, e.m.activeSessions())
}

func TestEnsureHost(t *testing.T) {
	pre := func(name string, inits ...mInit) func(*psModel) {
		return func(m *psModel) {
			m.hosts = append(m.hosts, &mHost{ID: uuid.NewString(), Name: name, OSType: "Linux", Initiators: inits})
		}
	}
	tests := []struct {
		name     string
		setup    func(*psModel)
		spec     storage.HostSpec
		kind     storage.Kind // KindUnknown means success
		created  bool
		want     []mInit // initiators of the host named spec.Name afterwards
		hostPOST int
	}{
		{name: "new host", setup: func(*psModel) {}, spec: spec, created: true,
			want: []mInit{{initiatorIQN, "iSCSI"}}, hostPOST: 1},
		{name: "already exists", setup: pre(hostName, mInit{initiatorIQN, "iSCSI"}), spec: spec,
			want: []mInit{{initiatorIQN, "iSCSI"}}},
		{name: "already exists, created by someone else after the lookup", spec: spec,
			setup: func(m *psModel) {
				pre(hostName, mInit{initiatorIQN, "iSCSI"})(m)
				m.hideHostOnce = hostName
			},
			want: []mInit{{initiatorIQN, "iSCSI"}}, hostPOST: 1},
		{name: "exists without the initiator", setup: pre(hostName), spec: spec,
			want: []mInit{{initiatorIQN, "iSCSI"}}},
		{name: "exists with a foreign initiator", setup: pre(hostName, mInit{otherIQN, "iSCSI"}), spec: spec,
			kind: storage.KindInvalid, want: []mInit{{otherIQN, "iSCSI"}}},
		{name: "initiator belongs to another host", setup: pre("legacy", mInit{initiatorIQN, "iSCSI"}), spec: spec,
			kind: storage.KindInvalid, hostPOST: 1},
		{name: "nvme", setup: func(*psModel) {}, created: true, hostPOST: 1,
			spec: storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP, OS: storage.Windows},
			want: []mInit{{hostNQN, "NVMe"}}},
		{name: "iscsi protocol with an NQN", setup: func(*psModel) {}, kind: storage.KindInvalid,
			spec: storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.ISCSI}},
		{name: "unknown protocol", setup: func(*psModel) {}, kind: storage.KindInvalid,
			spec: storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: "fc"}},
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
				assert.Equal(t, tc.created, h.Created)
				assert.Equal(t, hostName, h.Name)
				assert.Equal(t, []string{tc.spec.Initiator}, h.Initiators)
			}
			assert.Equal(t, tc.hostPOST, e.m.count("POST /api/rest/host"))
			hosts, _, _ := e.m.snapshot()
			var got []mInit
			n := 0
			for _, mh := range hosts {
				if mh.Name == hostName {
					n++
					got = mh.Initiators
					if tc.kind == storage.KindUnknown {
						assert.Equal(t, mh.ID, h.ID)
						if tc.spec.OS == storage.Windows {
							assert.Equal(t, "Windows", mh.OSType)
						}
					}
				}
			}
			if tc.want != nil {
				assert.Equal(t, 1, n, "exactly one host with the name")
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMapLUN(t *testing.T) {
	ctx := t.Context()
	type call struct {
		host storage.Host
		lun  int
	}
	tests := []struct {
		name    string
		call    func(h storage.Host) call
		kind    storage.Kind
		wantLUN int
		attachs int
	}{
		{name: "array chooses", call: func(h storage.Host) call { return call{h, -1} }, wantLUN: 26, attachs: 1},
		{name: "requested LUN free", call: func(h storage.Host) call { return call{h, 7} }, wantLUN: 7, attachs: 1},
		{name: "requested LUN taken", call: func(h storage.Host) call { return call{h, 3} }, kind: storage.KindLUNConflict},
		{name: "host name instead of id", call: func(h storage.Host) call {
			return call{storage.Host{ID: h.Name, Name: h.Name}, -1}
		}, kind: storage.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			h, err := c.EnsureHost(ctx, spec)
			require.NoError(t, err)
			vols, err := c.Volumes(ctx)
			require.NoError(t, err)
			other := vols[0]
			boot := vols[3]
			require.Equal(t, "web01-boot", boot.Name)
			// Another volume already sits at LUN 3 on this host.
			_, err = c.Map(ctx, h, other, 3)
			require.NoError(t, err)
			before := e.m.count("POST /api/rest/volume/")

			in := tc.call(h)
			m, err := c.Map(ctx, in.host, boot, in.lun)
			assert.Equal(t, tc.attachs, e.m.count("POST /api/rest/volume/")-before)
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
			_, maps, _ := e.m.snapshot()
			assert.Len(t, maps, 2)
		})
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*psModel)
		creds storage.Credentials
	}{
		{name: "wrong password", setup: func(*psModel) {}, creds: storage.Credentials{Username: "admin", Secret: "wrong-Secret-77"}},
		{name: "password change required", setup: func(m *psModel) { m.passwordChange = true },
			creds: storage.Credentials{Username: "admin", Secret: "Pa55-word-never-logged"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.setup)
			c := e.client(t, func(cfg *powerstore.Config) { cfg.Credentials = tc.creds })
			err := c.Login(t.Context())
			require.Error(t, err)
			assert.ErrorIs(t, err, storage.ErrAuth)
			assert.NotContains(t, err.Error(), tc.creds.Secret)
			_, err = c.Volumes(t.Context())
			assert.ErrorIs(t, err, storage.ErrAuth, "calls without a session try to log in and fail the same way")
			assert.Equal(t, 0, e.m.activeSessions())
			assert.NoError(t, c.Logout(t.Context()), "logout without a session is a no-op")
		})
	}
}

func TestSessionExpiresMidRun(t *testing.T) {
	for _, after := range []int{1, 3, 6} {
		t.Run(fmt.Sprintf("after %d calls", after), func(t *testing.T) {
			e := start(t, func(m *psModel) { m.expireAfter = after })
			res, err := runSetup(t.Context(), e.client(t), -1)
			require.NoError(t, err)
			assert.Equal(t, 26, res.mapped.LUN)
			assert.True(t, e.m.expired, "the model did expire the session")
			assert.Equal(t, 2, e.m.logins, "one re-login")
			assert.Equal(t, 0, e.m.activeSessions())
			assert.Equal(t, 0, e.m.basicOnAPI)
			hosts, maps, _ := e.m.snapshot()
			assert.Len(t, hosts, 1)
			assert.Len(t, maps, 1)
		})
	}
}

// TestLogoutAfterFailure: a step fails and the caller's context is already
// cancelled, yet the deferred Logout still closes the session.
func TestLogoutAfterFailure(t *testing.T) {
	e := start(t, func(m *psModel) {
		m.hosts = append(m.hosts, &mHost{ID: uuid.NewString(), Name: "legacy", OSType: "Linux", Initiators: []mInit{{initiatorIQN, "iSCSI"}}})
	})
	c := e.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	err := func() (err error) {
		require.NoError(t, c.Login(ctx))
		defer func() { err = errors.Join(err, c.Logout(ctx)) }()
		_, err = c.EnsureHost(ctx, spec)
		cancel()
		return err
	}()
	require.Error(t, err)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
	assert.Equal(t, 0, e.m.activeSessions())
	assert.Equal(t, 1, e.m.logouts)
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
			c := e.client(t, func(cfg *powerstore.Config) { cfg.HTTP = hc })
			err = c.Login(t.Context())
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, 1, e.m.activeSessions())
				require.NoError(t, c.Logout(t.Context()))
				return
			}
			require.Error(t, err)
			assert.NotErrorIs(t, err, storage.ErrAuth)
			assert.Contains(t, err.Error(), "--array-ca-file")
			assert.Empty(t, e.m.requests, "no request reached the array")
		})
	}
}

func TestSnapshotUnmapDelete(t *testing.T) {
	ctx := t.Context()
	e := start(t)
	c := e.client(t)
	res, err := runSetup(ctx, c, -1)
	require.NoError(t, err)
	boot := res.mapped.Volume

	s1, err := c.Snapshot(ctx, boot, "web01-boot-pre-failback")
	require.NoError(t, err)
	s2, err := c.Snapshot(ctx, boot, "web01-boot-pre-failback")
	require.NoError(t, err, "re-run returns the same snapshot")
	assert.Equal(t, s1, s2)
	assert.Equal(t, storage.Snapshot{ID: s1.ID, Name: "web01-boot-pre-failback", Volume: "web01-boot"}, s1)
	_, _, vols := e.m.snapshot()
	snaps := 0
	for _, v := range vols {
		if v.Type == "Snapshot" {
			snaps++
			assert.Equal(t, boot.ID, v.SourceID)
		}
	}
	assert.Equal(t, 1, snaps)
	listed, err := c.Volumes(ctx)
	require.NoError(t, err)
	assert.Len(t, listed, 5, "snapshots are not offered as volumes")

	err = c.DeleteVolume(ctx, boot)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "a mapped volume is refused: %v", err)
	err = c.DeleteHost(ctx, res.host)
	assert.Error(t, err, "a host with mappings is refused")

	for range 2 {
		require.NoError(t, c.Unmap(ctx, res.host, boot))
	}
	_, maps, _ := e.m.snapshot()
	assert.Empty(t, maps)
	for range 2 {
		require.NoError(t, c.DeleteHost(ctx, res.host))
	}
	require.NoError(t, c.DeleteHost(ctx, storage.Host{Name: hostName}), "absent host by name")
	require.NoError(t, c.Unmap(ctx, res.host, boot), "unmap after the host is gone")
	hosts, _, _ := e.m.snapshot()
	assert.Empty(t, hosts)
	for range 2 {
		require.NoError(t, c.DeleteVolume(ctx, boot))
	}
	_, _, vols = e.m.snapshot()
	for _, v := range vols {
		assert.NotEqual(t, boot.ID, v.ID)
	}
	require.NoError(t, c.Logout(ctx))
	assert.Equal(t, 0, e.m.activeSessions())
}

func TestTargets(t *testing.T) {
	ctx := t.Context()
	t.Run("iscsi, one target per node", func(t *testing.T) {
		e := start(t)
		ts, err := e.client(t).Targets(ctx, storage.ISCSI)
		require.NoError(t, err)
		require.Len(t, ts, 2)
		assert.Equal(t, iqnNodeA, ts[0].Name)
		assert.Len(t, ts[0].Endpoints, 2)
		assert.Equal(t, storage.Target{Name: iqnNodeB, Protocol: storage.ISCSI,
			Endpoints: []storage.Endpoint{{Address: "192.168.50.12", Port: 3260}}}, ts[1])
	})
	t.Run("nvme across all appliances", func(t *testing.T) {
		e := start(t, func(m *psModel) {
			m.addNVMePortal("192.168.60.21", "A2")
			m.addNVMePortal("192.168.60.10", "A1")
			m.addNVMePortal("192.168.60.11", "A1")
			m.nvmNQN = subsysNQN
		})
		tg, err := e.client(t).Target(ctx, storage.NVMeTCP)
		require.NoError(t, err)
		assert.Equal(t, storage.Target{Name: subsysNQN, Protocol: storage.NVMeTCP, Endpoints: []storage.Endpoint{
			{Address: "192.168.60.10", Port: 4420}, {Address: "192.168.60.11", Port: 4420}, {Address: "192.168.60.21", Port: 4420}}}, tg)
	})
	unsupported := []struct {
		name  string
		setup func(*psModel)
		p     storage.Protocol
	}{
		{name: "no nvme portals", setup: func(m *psModel) { m.nvmNQN = subsysNQN }, p: storage.NVMeTCP},
		{name: "nvme portals but no subsystem", setup: func(m *psModel) { m.addNVMePortal("192.168.60.10", "A1") }, p: storage.NVMeTCP},
		{name: "no iscsi portals", setup: func(m *psModel) { m.pool = nil }, p: storage.ISCSI},
		{name: "unknown protocol", setup: func(*psModel) {}, p: "fc"},
	}
	for _, tc := range unsupported {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.setup)
			_, err := e.client(t).Target(ctx, tc.p)
			assert.ErrorIs(t, err, storage.ErrUnsupported)
		})
	}
}

func TestNew(t *testing.T) {
	creds := storage.Credentials{Username: "admin", Secret: "s3cret-Value"}
	tests := []struct {
		name string
		cfg  powerstore.Config
		ok   bool
	}{
		{name: "ok", cfg: powerstore.Config{Endpoint: "https://10.0.0.5", Credentials: creds}, ok: true},
		{name: "ok with port and slash", cfg: powerstore.Config{Endpoint: "https://ps.example.net:443/", Credentials: creds}, ok: true},
		{name: "empty endpoint", cfg: powerstore.Config{Credentials: creds}},
		{name: "http", cfg: powerstore.Config{Endpoint: "http://10.0.0.5", Credentials: creds}},
		{name: "path", cfg: powerstore.Config{Endpoint: "https://10.0.0.5/api/rest", Credentials: creds}},
		{name: "userinfo", cfg: powerstore.Config{Endpoint: "https://admin:x@10.0.0.5", Credentials: creds}},
		{name: "no password", cfg: powerstore.Config{Endpoint: "https://10.0.0.5", Credentials: storage.Credentials{Username: "admin"}}},
		{name: "no user", cfg: powerstore.Config{Endpoint: "https://10.0.0.5", Credentials: storage.Credentials{Secret: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := powerstore.New(tc.cfg)
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
// expiring session, refused calls, teardown) with debug logging and scans the
// logs and every error string for the password, session tokens and cookies.
func TestNoSecretLeaks(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, func(m *psModel) { m.expireAfter = 5 })
	withLog := func(cfg *powerstore.Config) { cfg.Log = lg }
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}

	bad := e.client(t, withLog, func(cfg *powerstore.Config) { cfg.Credentials.Secret = e.m.password + "-typo" })
	note(bad.Login(ctx))

	c := e.client(t, withLog)
	res, err := runSetup(ctx, c, -1)
	require.NoError(t, err)
	_, err = c.Map(ctx, storage.Host{ID: hostName, Name: hostName}, res.mapped.Volume, -1)
	note(err)
	_, err = c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: otherIQN, Protocol: storage.ISCSI})
	note(err)
	note(c.DeleteHost(ctx, res.host))
	_, err = c.Snapshot(ctx, res.mapped.Volume, "snap-1")
	note(err)
	note(c.Unmap(ctx, res.host, res.mapped.Volume))
	note(c.DeleteHost(ctx, res.host))
	note(c.Logout(ctx))
	require.GreaterOrEqual(t, len(errs), 9, "the failing calls did fail")

	out := logs.String()
	require.Contains(t, out, "logged in to array")
	require.Contains(t, out, "array session expired")
	texts := append([]string{out, fmt.Sprint(c), fmt.Sprintf("%#v", c)}, errs...)
	storagetest.NoSecret(t, e.m.password, texts...)
	storagetest.NoSecret(t, e.m.password+"-typo", texts...)
	require.NotEmpty(t, e.m.secrets)
	for _, s := range e.m.secrets {
		storagetest.NoSecret(t, s, texts...)
	}
	for _, word := range []string{"Authorization", "Basic ", "Cookie"} {
		assert.NotContains(t, out, word)
	}
	assert.False(t, strings.Contains(out, "DELL-EMC-TOKEN:"), "no token header in logs")
}
