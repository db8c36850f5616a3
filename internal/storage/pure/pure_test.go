package pure_test

// Contract tests: the real client, over real HTTPS with a private CA, against
// the FlashArray REST 2.x model in model_test.go (no mocks of the client).

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/pure"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const (
	initiatorIQN = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	otherIQN     = "iqn.1994-05.com.redhat:someone-else"
	hostNQN      = "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	hostName     = "ohaweb01"
	bootVol      = "web01-boot"
	targetIQN    = "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60"
)

type fixture struct {
	m    *pureModel
	logs *bytes.Buffer
	cfg  pure.Config
	c    *pure.Client
}

func newFixture(t *testing.T, tweak func(*pureModel, *pure.Config)) *fixture {
	t.Helper()
	m := newModel()
	srv, ca := m.start(t)
	hc, warn, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: ca, Timeout: 10 * time.Second})
	require.NoError(t, err)
	require.Empty(t, warn)
	logs := &bytes.Buffer{}
	cfg := pure.Config{
		Endpoint:    srv.URL,
		Credentials: storage.Credentials{Secret: m.token},
		HTTP:        hc,
		Log:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PageSize:    2, // 6 volumes: three pages
	}
	if tweak != nil {
		tweak(m, &cfg)
	}
	c, err := pure.New(cfg)
	require.NoError(t, err)
	return &fixture{m: m, logs: logs, cfg: cfg, c: c}
}

func (f *fixture) volume(t *testing.T, name string) storage.Volume {
	t.Helper()
	vols, err := f.c.Volumes(context.Background())
	require.NoError(t, err)
	for _, v := range vols {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("volume %s not listed in %v", name, vols)
	return storage.Volume{}
}

type outcome struct {
	vols    []storage.Volume
	host    storage.Host
	mapping storage.Mapping
	target  storage.Target
}

// runSetup is the sequence setup performs against an array.
func runSetup(t *testing.T, a storage.Array, volName string, lun int) outcome {
	t.Helper()
	ctx := context.Background()
	var o outcome
	require.NoError(t, a.Login(ctx))
	vols, err := a.Volumes(ctx)
	require.NoError(t, err)
	o.vols = vols
	var vol storage.Volume
	for _, v := range vols {
		if v.Name == volName {
			vol = v
		}
	}
	require.NotEmpty(t, vol.ID, "volume %s not listed", volName)
	o.host, err = a.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: storage.Linux})
	require.NoError(t, err)
	o.mapping, err = a.Map(ctx, o.host, vol, lun)
	require.NoError(t, err)
	o.target, err = a.Target(ctx, storage.ISCSI)
	require.NoError(t, err)
	require.NoError(t, a.Logout(ctx))
	return o
}

func TestSetupSequence(t *testing.T) {
	f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.firstLUN = 26 })
	o := runSetup(t, f.c, bootVol, -1)

	var names []string
	for _, v := range o.vols {
		names = append(names, v.Name)
	}
	assert.Equal(t, []string{"db01-boot", "db01-data", "scratch", "web01-boot", "web01-data"}, names, "all pages, destroyed volumes left out, sorted")
	assert.Equal(t, storage.Volume{ID: f.m.vols[0].id, Name: bootVol, SizeBytes: 1 << 30}, o.vols[3], "provisioned size is read")
	assert.Equal(t, 2, f.m.requestsMatching("GET /api/2.36/volumes?continuation_token="), "three pages need two continuation tokens")

	assert.Equal(t, "2.36", f.c.APIVersion(), "the newest 2.x offered")
	assert.True(t, o.host.Created)
	assert.Equal(t, storage.Host{ID: hostName, Name: hostName, Initiators: []string{initiatorIQN}, Created: true}, o.host)
	assert.Equal(t, 26, o.mapping.LUN, "the LUN the array assigned, read back")
	assert.Equal(t, storage.Target{Name: targetIQN, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{
		{Address: "192.168.50.20", Port: 3260}, {Address: "192.168.50.21", Port: 3260}, {Address: "fd00::21", Port: 3260},
	}}, o.target)

	f.m.set(func(m *pureModel) {
		assert.Equal(t, []pConn{{host: hostName, vol: bootVol, lun: 26}}, m.conns)
		require.Len(t, m.hosts, 1)
		assert.Equal(t, []string{initiatorIQN}, m.hosts[0].iqns)
		assert.Empty(t, m.sessions, "Logout closed the session")
		assert.Equal(t, 1, m.logins)
		for _, r := range m.requests {
			if !strings.HasPrefix(r, "GET /api/api_version") {
				assert.True(t, strings.Contains(r, " /api/2.36/"), "request %s uses the negotiated version", r)
			}
		}
	})

	var portals []sanboot.Portal
	for _, e := range o.target.Endpoints {
		portals = append(portals, sanboot.Portal{Addr: netip.MustParseAddr(e.Address), Port: uint16(e.Port)})
	}
	script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiatorIQN, TargetIQN: o.target.Name, Portals: portals, LUN: o.mapping.LUN, LNI: &sanboot.LNI{Index: 1},
		Filename: `\EFI\redhat\shimx64.efi`}) // UEFI: three boot paths exceed the BIOS iBFT budget
	require.NoError(t, err)
	assert.Contains(t, string(script), "iscsi:192.168.50.20::3260:1a:"+targetIQN)
	assert.Contains(t, string(script), "iscsi:[fd00::21]::3260:1a:"+targetIQN)
}

func TestSetupIsIdempotent(t *testing.T) {
	f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.firstLUN = 26 })
	first := runSetup(t, f.c, bootVol, -1)
	second := runSetup(t, f.c, bootVol, -1)
	assert.False(t, second.host.Created)
	assert.Equal(t, first.mapping, second.mapping)
	assert.Equal(t, 1, f.m.requestsMatching("POST /api/2.36/hosts"))
	assert.Equal(t, 1, f.m.requestsMatching("POST /api/2.36/connections"))
	f.m.set(func(m *pureModel) {
		assert.Len(t, m.hosts, 1)
		assert.Len(t, m.conns, 1)
	})
}

func TestEnsureHostExisting(t *testing.T) {
	tests := []struct {
		name      string
		prepare   func(*pureModel)
		wantKind  storage.Kind
		wantHosts map[string][]string
	}{
		{
			name:      "created concurrently (400 on create is absorbed by re-reading)",
			prepare:   func(m *pureModel) { m.raceHost = true },
			wantHosts: map[string][]string{hostName: {initiatorIQN}},
		},
		{
			name:      "exists empty: initiator added",
			prepare:   func(m *pureModel) { m.hosts = append(m.hosts, &pHost{name: hostName}) },
			wantHosts: map[string][]string{hostName: {initiatorIQN}},
		},
		{
			name:      "exists with another host's initiator: refused",
			prepare:   func(m *pureModel) { m.hosts = append(m.hosts, &pHost{name: hostName, iqns: []string{otherIQN}}) },
			wantKind:  storage.KindAlreadyExists,
			wantHosts: map[string][]string{hostName: {otherIQN}},
		},
		{
			name:      "IQN already used by another host: the array's refusal stands",
			prepare:   func(m *pureModel) { m.hosts = append(m.hosts, &pHost{name: "legacy", iqns: []string{initiatorIQN}}) },
			wantKind:  storage.KindInvalid,
			wantHosts: map[string][]string{"legacy": {initiatorIQN}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *pureModel, _ *pure.Config) { tc.prepare(m) })
			h, err := f.c.EnsureHost(context.Background(), storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI})
			if tc.wantKind != storage.KindUnknown {
				require.Error(t, err)
				assert.Equal(t, tc.wantKind, storage.KindOf(err), "%v", err)
			} else {
				require.NoError(t, err)
				assert.False(t, h.Created, "this run did not create it")
				assert.Equal(t, []string{initiatorIQN}, h.Initiators)
			}
			got := map[string][]string{}
			f.m.set(func(m *pureModel) {
				for _, h := range m.hosts {
					got[h.name] = h.iqns
				}
			})
			assert.Equal(t, tc.wantHosts, got)
		})
	}
}

func TestMap(t *testing.T) {
	premap := func(lun int, vol string) func(*pureModel) {
		return func(m *pureModel) {
			m.hosts = append(m.hosts, &pHost{name: hostName, iqns: []string{initiatorIQN}})
			m.conns = append(m.conns, pConn{host: hostName, vol: vol, lun: lun})
		}
	}
	none := func(*pureModel) {}
	tests := []struct {
		name      string
		prepare   func(*pureModel)
		lun       int
		want      int
		wantKind  storage.Kind
		wantConns int
		wantPost  int
	}{
		{name: "array chooses (FlashArray counts from 1)", lun: -1, want: 1, wantConns: 1, wantPost: 1, prepare: none},
		{name: "requested LUN is used", lun: 30, want: 30, wantConns: 1, wantPost: 1, prepare: none},
		{name: "LUN 0 is refused before any call", lun: 0, wantKind: storage.KindInvalid, prepare: none},
		{name: "requested LUN taken by another volume", lun: 5, prepare: premap(5, "web01-data"), wantKind: storage.KindLUNConflict, wantConns: 1},
		{name: "already connected at another LUN", lun: 5, prepare: premap(7, bootVol), wantKind: storage.KindLUNConflict, wantConns: 1},
		{name: "already connected, array chooses: existing LUN returned", lun: -1, prepare: premap(7, bootVol), want: 7, wantConns: 1},
		{name: "connected concurrently (400 absorbed by re-reading)", lun: -1, want: 1, wantConns: 1, wantPost: 1, prepare: func(m *pureModel) { m.raceConn = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *pureModel, _ *pure.Config) { tc.prepare(m) })
			ctx := context.Background()
			h, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI})
			require.NoError(t, err)
			vol := f.volume(t, bootVol)
			got, err := f.c.Map(ctx, h, vol, tc.lun)
			if tc.wantKind != storage.KindUnknown {
				require.Error(t, err)
				assert.Equal(t, tc.wantKind, storage.KindOf(err), "%v", err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, storage.Mapping{Volume: vol, HostID: hostName, LUN: tc.want}, got)
			}
			f.m.set(func(m *pureModel) { assert.Len(t, m.conns, tc.wantConns) })
			assert.Equal(t, tc.wantPost, f.m.requestsMatching("POST /api/2.36/connections"))
		})
	}
}

func TestLoginAuthFailure(t *testing.T) {
	f := newFixture(t, func(_ *pureModel, c *pure.Config) { c.Credentials.Secret = "not-the-token" })
	err := f.c.Login(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, storage.ErrAuth)
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusUnauthorized, se.Status)
	assert.Equal(t, "pure", se.Vendor)
	assert.Empty(t, se.Code, "FlashArray has no error codes")
	_, err = f.c.Volumes(context.Background())
	assert.ErrorIs(t, err, storage.ErrAuth, "a later call tries to log in and fails the same way")
}

func TestSessionExpiresMidRun(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	require.NoError(t, f.c.Login(ctx))
	f.m.set(func(m *pureModel) { m.expireOnce = true })
	vols, err := f.c.Volumes(ctx)
	require.NoError(t, err, "re-authenticated once and retried")
	assert.Len(t, vols, 5)
	f.m.set(func(m *pureModel) {
		assert.Equal(t, 2, m.logins)
		assert.Len(t, m.sessions, 1, "the fresh session is the only one")
	})
	_, err = f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI})
	require.NoError(t, err, "later calls use the fresh session")
	f.m.set(func(m *pureModel) { assert.Equal(t, 2, m.logins) })
}

func TestSessionRefusedTwiceIsAuth(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	require.NoError(t, f.c.Login(ctx))
	f.m.set(func(m *pureModel) { m.rejectSessions = true })
	_, err := f.c.Volumes(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, storage.ErrAuth)
	assert.ErrorContains(t, err, "refused again right after a fresh login")
	f.m.set(func(m *pureModel) { assert.Equal(t, 2, m.logins, "exactly one re-login, no loop") })
	assert.Equal(t, 2, f.m.requestsMatching("GET /api/2.36/volumes"))
}

func TestLazyLoginAndLogout(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	require.NoError(t, f.c.Logout(ctx), "logout without a session is a no-op")
	_, err := f.c.Volumes(ctx)
	require.NoError(t, err, "the first call logs in")
	require.NoError(t, f.c.Logout(ctx))
	require.NoError(t, f.c.Logout(ctx), "twice is fine")
	f.m.set(func(m *pureModel) {
		assert.Equal(t, 1, m.logins)
		assert.Empty(t, m.sessions)
	})
	assert.Equal(t, 1, f.m.requestsMatching("POST /api/2.36/logout"))

	require.NoError(t, f.c.Login(ctx))
	f.m.set(func(m *pureModel) { clear(m.sessions) })
	assert.NoError(t, f.c.Logout(ctx), "a session the array already dropped counts as closed")
}

func TestAPIVersion(t *testing.T) {
	tests := []struct {
		name     string
		pin      string
		offered  []string
		want     string
		wantKind storage.Kind
	}{
		{name: "newest 2.x by number, not by string", offered: []string{"2.9", "2.10", "2.2"}, want: "2.10"},
		{name: "pinned", pin: "2.4", want: "2.4"},
		{name: "pinned but not offered", pin: "2.99", wantKind: storage.KindUnsupported},
		{name: "only REST 1.x", offered: []string{"1.17", "1.19"}, wantKind: storage.KindUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *pureModel, c *pure.Config) {
				c.APIVersion = tc.pin
				if tc.offered != nil {
					m.versions = tc.offered
				}
			})
			err := f.c.Login(context.Background())
			if tc.wantKind != storage.KindUnknown {
				assert.Equal(t, tc.wantKind, storage.KindOf(err), "%v", err)
				f.m.set(func(m *pureModel) { assert.Zero(t, m.logins) })
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.c.APIVersion())
			_, err = f.c.Volumes(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, f.m.requestsMatching("GET /api/"+tc.want+"/volumes?destroyed=false&limit=2"))
		})
	}
}

func TestTLS(t *testing.T) {
	t.Run("private CA trusted", func(t *testing.T) {
		f := newFixture(t, nil)
		require.NoError(t, f.c.Login(context.Background()))
	})
	for name, hc := range map[string]*http.Client{"plain client": {}, "nil client (system roots)": nil} {
		t.Run("untrusted CA refused: "+name, func(t *testing.T) {
			f := newFixture(t, func(_ *pureModel, c *pure.Config) { c.HTTP = hc })
			err := f.c.Login(context.Background())
			require.Error(t, err)
			assert.ErrorContains(t, err, "--array-ca-file")
			assert.Equal(t, 0, f.m.requestsMatching(""), "no request (so no token) reached the server")
		})
	}
}

func TestTarget(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tgt, err := f.c.Target(ctx, storage.NVMeTCP)
	require.NoError(t, err)
	assert.Equal(t, storage.Target{Name: "nqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", Protocol: storage.NVMeTCP,
		Endpoints: []storage.Endpoint{{Address: "192.168.60.20", Port: 4420}}}, tgt)

	_, err = f.c.Target(ctx, "fc")
	assert.ErrorIs(t, err, storage.ErrUnsupported)

	f.m.set(func(m *pureModel) { m.ports = m.ports[:4] }) // no NVMe port left
	_, err = f.c.Target(ctx, storage.NVMeTCP)
	assert.ErrorIs(t, err, storage.ErrUnsupported)
}

func TestNVMeHost(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	h, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP})
	require.NoError(t, err)
	assert.Equal(t, []string{hostNQN}, h.Initiators)
	m, err := f.c.Map(ctx, h, f.volume(t, bootVol), 3)
	require.NoError(t, err)
	assert.Equal(t, 3, m.LUN)
	f.m.set(func(m *pureModel) {
		assert.Equal(t, []string{hostNQN}, m.hosts[0].nqns)
		assert.Empty(t, m.hosts[0].iqns)
	})
}

func TestSnapshot(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	vol := f.volume(t, bootVol)
	s, err := f.c.Snapshot(ctx, vol, "ohaweb01-pre-failback")
	require.NoError(t, err)
	assert.Equal(t, bootVol+".ohaweb01-pre-failback", s.Name)
	assert.Equal(t, bootVol, s.Volume)
	assert.NotEmpty(t, s.ID)
	again, err := f.c.Snapshot(ctx, vol, "ohaweb01-pre-failback")
	require.NoError(t, err)
	assert.Equal(t, s, again)
	assert.Equal(t, 1, f.m.requestsMatching("POST /api/2.36/volume-snapshots"))
	_, err = f.c.Snapshot(ctx, vol, "bad'name")
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
}

func TestTeardown(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	o := runSetup(t, f.c, bootVol, -1)
	vol := o.mapping.Volume

	assert.Error(t, f.c.DeleteHost(ctx, o.host), "FlashArray refuses to delete a connected host")
	assert.Error(t, f.c.DeleteVolume(ctx, vol), "FlashArray refuses to destroy a connected volume")
	require.NoError(t, f.c.Unmap(ctx, o.host, vol))
	require.NoError(t, f.c.Unmap(ctx, o.host, vol), "absent connection is success")

	f.m.set(func(m *pureModel) { m.hosts[0].iqns = append(m.hosts[0].iqns, otherIQN) })
	assert.Equal(t, storage.KindInvalid, storage.KindOf(f.c.DeleteHost(ctx, o.host)), "a host that now holds a foreign initiator is not deleted")
	f.m.set(func(m *pureModel) { m.hosts[0].iqns = m.hosts[0].iqns[:1] })

	require.NoError(t, f.c.DeleteHost(ctx, o.host))
	require.NoError(t, f.c.DeleteHost(ctx, o.host), "absent host is success")
	require.NoError(t, f.c.Unmap(ctx, o.host, vol), "unmap after the host is gone is success")
	require.NoError(t, f.c.DeleteVolume(ctx, vol))
	require.NoError(t, f.c.DeleteVolume(ctx, vol), "already destroyed is success")
	require.NoError(t, f.c.DeleteVolume(ctx, storage.Volume{Name: "never-existed"}), "absent volume is success")

	f.m.set(func(m *pureModel) {
		assert.Empty(t, m.conns)
		assert.Empty(t, m.hosts)
		assert.True(t, m.vols[0].destroyed, "destroyed, not eradicated")
		assert.Len(t, m.vols, 6)
	})
	vols, err := f.c.Volumes(ctx)
	require.NoError(t, err)
	for _, v := range vols {
		assert.NotEqual(t, bootVol, v.Name)
	}
}

func TestMapUnknownHost(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.c.Map(context.Background(), storage.Host{Name: "nohost"}, f.volume(t, bootVol), -1)
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.ErrorContains(t, err, "EnsureHost")
}

func TestDeleteVolumeRefusesAReplacedVolume(t *testing.T) {
	f := newFixture(t, nil)
	vol := f.volume(t, bootVol)
	vol.ID = "00000000-0000-0000-0000-000000000000"
	err := f.c.DeleteVolume(context.Background(), vol)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
	f.m.set(func(m *pureModel) { assert.False(t, m.vols[0].destroyed) })
}

func TestNewValidation(t *testing.T) {
	good := pure.Config{Endpoint: "https://fa1.example", Credentials: storage.Credentials{Secret: "tok"}}
	tests := []struct {
		name    string
		mutate  func(*pure.Config)
		wantErr string
	}{
		{name: "valid", mutate: func(*pure.Config) {}},
		{name: "http refused", mutate: func(c *pure.Config) { c.Endpoint = "http://fa1" }, wantErr: "clear text"},
		{name: "credentials in URL", mutate: func(c *pure.Config) { c.Endpoint = "https://u:tok@fa1" }, wantErr: "user:password@"},
		{name: "path", mutate: func(c *pure.Config) { c.Endpoint = "https://fa1/api/2.36" }, wantErr: "only https://host[:port]"},
		{name: "no token", mutate: func(c *pure.Config) { c.Credentials.Secret = "" }, wantErr: "API token"},
		{name: "bad version pin", mutate: func(c *pure.Config) { c.APIVersion = "1.19" }, wantErr: "APIVersion"},
		{name: "page size", mutate: func(c *pure.Config) { c.PageSize = 20000 }, wantErr: "PageSize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mutate(&cfg)
			c, err := pure.New(cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.NotContains(t, err.Error(), "tok@")
		})
	}
}

func TestInputValidationSendsNothing(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	h := storage.Host{ID: hostName, Name: hostName}
	tests := map[string]func() error{
		"host name with a quote": func() error {
			_, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: "oha'web", Initiator: initiatorIQN, Protocol: storage.ISCSI})
			return err
		},
		"NQN for an iSCSI host": func() error {
			_, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.ISCSI})
			return err
		},
		"volume name with a quote": func() error {
			_, err := f.c.Map(ctx, h, storage.Volume{Name: "x' or name='y"}, -1)
			return err
		},
		"LUN above 4095": func() error {
			_, err := f.c.Map(ctx, h, storage.Volume{Name: bootVol}, 4096)
			return err
		},
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, storage.KindInvalid, storage.KindOf(call()))
		})
	}
	assert.Equal(t, 0, f.m.requestsMatching(""))
}

// TestNoSecretInLogsOrErrors runs the whole sequence, failures and a session
// renewal included, with Debug logging into a buffer, and scans every log line
// and error string for the API token and every session token.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.firstLUN = 26 })
	ctx := context.Background()
	var texts []string
	keep := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		}
	}
	o := runSetup(t, f.c, bootVol, -1)
	runSetup(t, f.c, bootVol, -1)
	f.m.set(func(m *pureModel) { m.expireOnce = true })
	_, err := f.c.Map(ctx, o.host, o.mapping.Volume, 3)
	keep(err)
	keep(f.c.DeleteHost(ctx, o.host))
	f.m.set(func(m *pureModel) { m.rejectSessions = true })
	_, err = f.c.Volumes(ctx)
	keep(err)
	f.m.set(func(m *pureModel) { m.rejectSessions = false })

	wrong := "wrong-token-0123456789"
	bad := f.cfg
	bad.Credentials.Secret = wrong
	bc, err := pure.New(bad)
	require.NoError(t, err)
	keep(bc.Login(ctx))

	texts = append(texts, f.logs.String(),
		fmt.Sprintf("%v %+v %#v %s", f.c, f.c, f.c, f.c),
		fmt.Sprintf("%v %+v %#v", f.cfg, f.cfg, f.cfg))
	require.Contains(t, f.logs.String(), "session opened")
	require.GreaterOrEqual(t, len(texts), 8)
	secrets := []string{f.m.token, wrong}
	f.m.set(func(m *pureModel) { secrets = append(secrets, m.issued...) })
	require.GreaterOrEqual(t, len(secrets), 5, "several sessions were issued and are scanned for")
	for _, s := range secrets {
		storagetest.NoSecret(t, s, texts...)
	}
	assert.NotContains(t, strings.ToLower(strings.Join(texts, "\n")), "x-auth-token:")
}
