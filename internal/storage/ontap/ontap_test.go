package ontap_test

// Contract tests: the real client, over real HTTPS with a private CA, against
// the ONTAP API model in model_test.go (no mocks of the client's own code).

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"github.com/outposts-ha/outposts-ha/internal/storage/ontap"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const (
	initiatorIQN = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	otherIQN     = "iqn.1994-05.com.redhat:someone-else"
	hostNQN      = "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	hostName     = "ohaweb01"
	bootLUN      = "/vol/vol_web01/boot"
)

type fixture struct {
	m    *ontapModel
	url  string
	ca   string
	logs *bytes.Buffer
	cfg  ontap.Config
	c    *ontap.Client
}

func newFixture(t *testing.T, tweak func(*ontapModel, *ontap.Config)) *fixture {
	t.Helper()
	m := newModel()
	srv, ca := m.start(t)
	hc, warn, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: ca, Timeout: 10 * time.Second})
	require.NoError(t, err)
	require.Empty(t, warn)
	logs := &bytes.Buffer{}
	cfg := ontap.Config{
		Endpoint:    srv.URL,
		Credentials: storage.Credentials{Username: m.user, Secret: m.pass},
		SVM:         "svm1",
		HTTP:        hc,
		Log:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PageSize:    2, // the model holds 5 LUNs: three pages
		JobPoll:     time.Millisecond,
	}
	if tweak != nil {
		tweak(m, &cfg)
	}
	c, err := ontap.New(cfg)
	require.NoError(t, err)
	return &fixture{m: m, url: srv.URL, ca: ca, logs: logs, cfg: cfg, c: c}
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

func renderIPXE(t *testing.T, tgt storage.Target, lun int) string {
	t.Helper()
	var portals []sanboot.Portal
	for _, e := range tgt.Endpoints {
		portals = append(portals, sanboot.Portal{Addr: netip.MustParseAddr(e.Address), Port: uint16(e.Port)})
	}
	out, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiatorIQN, TargetIQN: tgt.Name, Portals: portals, LUN: lun, LNI: &sanboot.LNI{Index: 1}})
	require.NoError(t, err)
	return string(out)
}

func TestSetupSequence(t *testing.T) {
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.firstAutoLUN = 26 })
	o := runSetup(t, f.c, bootLUN, -1)

	require.Len(t, o.vols, 5, "every page of LUNs is listed")
	var names []string
	for _, v := range o.vols {
		names = append(names, v.Name)
	}
	assert.Equal(t, []string{"/vol/vol_other/data3", "/vol/vol_other/scratch", bootLUN, "/vol/vol_web01/data1", "/vol/vol_web01/data2"}, names, "sorted by path")
	assert.Equal(t, storage.Volume{ID: f.m.luns[0].uuid, Name: bootLUN, SizeBytes: 1 << 30}, o.vols[2])
	assert.Equal(t, int64(5)<<30, o.vols[1].SizeBytes, "space.size was asked for and read")
	assert.Equal(t, 3, f.m.requestsMatching("GET /api/storage/luns"), "5 LUNs at 2 per page are 3 GETs")

	assert.True(t, o.host.Created)
	assert.Equal(t, hostName, o.host.Name)
	assert.Equal(t, []string{initiatorIQN}, o.host.Initiators)
	assert.Equal(t, 26, o.mapping.LUN, "the LUN the array assigned, read back")
	assert.Equal(t, o.host.ID, o.mapping.HostID)

	assert.Equal(t, storage.Target{Name: f.m.iscsiIQN, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{
		{Address: "192.168.50.10", Port: 3260}, {Address: "192.168.50.11", Port: 3260},
	}}, o.target, "only up data_iscsi interfaces")

	f.m.set(func(m *ontapModel) {
		require.Len(t, m.igroups, 1)
		assert.Equal(t, "iscsi", m.igroups[0].protocol)
		assert.Equal(t, "linux", m.igroups[0].osType)
		assert.Equal(t, []mLunMap{{lun: m.luns[0].uuid, igroup: m.igroups[0].uuid, number: 26}}, m.lunMaps)
	})

	script := renderIPXE(t, o.target, o.mapping.LUN)
	assert.Contains(t, script, "sanboot iscsi:192.168.50.10::3260:1a:iqn.1992-08.com.netapp:sn.4f6b0c1e:vs.3 iscsi:192.168.50.11::3260:1a:")
}

func TestSetupIsIdempotent(t *testing.T) {
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.firstAutoLUN = 26 })
	first := runSetup(t, f.c, bootLUN, -1)
	posts := f.m.requestsMatching("POST ")
	second := runSetup(t, f.c, bootLUN, -1)

	assert.False(t, second.host.Created)
	assert.Equal(t, first.host.ID, second.host.ID)
	assert.Equal(t, first.mapping, second.mapping)
	assert.Equal(t, posts, f.m.requestsMatching("POST "), "a re-run changes nothing")
	f.m.set(func(m *ontapModel) {
		require.Len(t, m.igroups, 1)
		assert.Equal(t, []string{initiatorIQN}, m.igroups[0].initiators)
		assert.Len(t, m.lunMaps, 1)
	})
}

func TestEnsureHostExisting(t *testing.T) {
	tests := []struct {
		name        string
		prepare     func(m *ontapModel)
		wantKind    storage.Kind
		wantCreated bool
		wantInits   []string
	}{
		{
			name:      "created concurrently (409 on create is absorbed by re-reading)",
			prepare:   func(m *ontapModel) { m.raceIgroup = true },
			wantInits: []string{initiatorIQN},
		},
		{
			name: "exists empty: initiator added",
			prepare: func(m *ontapModel) {
				m.igroups = append(m.igroups, &mIgroup{uuid: m.id(), name: hostName, protocol: "iscsi", osType: "linux"})
			},
			wantInits: []string{initiatorIQN},
		},
		{
			name: "exists empty, initiator added concurrently (5374035 absorbed)",
			prepare: func(m *ontapModel) {
				m.igroups = append(m.igroups, &mIgroup{uuid: m.id(), name: hostName, protocol: "mixed", osType: "linux"})
				m.raceInitiator = true
			},
			wantInits: []string{initiatorIQN},
		},
		{
			name: "exists with another host's initiator: refused",
			prepare: func(m *ontapModel) {
				m.igroups = append(m.igroups, &mIgroup{uuid: m.id(), name: hostName, protocol: "iscsi", osType: "linux", initiators: []string{otherIQN}})
			},
			wantKind:  storage.KindAlreadyExists,
			wantInits: []string{otherIQN},
		},
		{
			name: "exists as an FC igroup: refused",
			prepare: func(m *ontapModel) {
				m.igroups = append(m.igroups, &mIgroup{uuid: m.id(), name: hostName, protocol: "fcp", osType: "linux"})
			},
			wantKind: storage.KindInvalid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { tc.prepare(m) })
			h, err := f.c.EnsureHost(context.Background(), storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI})
			if tc.wantKind != storage.KindUnknown {
				require.Error(t, err)
				assert.Equal(t, tc.wantKind, storage.KindOf(err), "%v", err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantCreated, h.Created)
				assert.Equal(t, tc.wantInits, h.Initiators)
			}
			f.m.set(func(m *ontapModel) {
				require.Len(t, m.igroups, 1, "never a second igroup")
				assert.Equal(t, tc.wantInits, m.igroups[0].initiators)
			})
		})
	}
}

func TestMap(t *testing.T) {
	premap := func(number int, lunIdx int) func(*ontapModel) {
		return func(m *ontapModel) {
			g := &mIgroup{uuid: m.id(), name: hostName, protocol: "iscsi", osType: "linux", initiators: []string{initiatorIQN}}
			m.igroups = append(m.igroups, g)
			m.lunMaps = append(m.lunMaps, mLunMap{lun: m.luns[lunIdx].uuid, igroup: g.uuid, number: number})
		}
	}
	tests := []struct {
		name     string
		prepare  func(*ontapModel)
		lun      int
		want     int
		wantKind storage.Kind
		wantMaps int
		wantPost int
	}{
		{name: "array chooses the lowest free", lun: -1, want: 0, wantMaps: 1, wantPost: 1, prepare: func(*ontapModel) {}},
		{name: "requested number is used", lun: 30, want: 30, wantMaps: 1, wantPost: 1, prepare: func(*ontapModel) {}},
		{name: "requested number taken by another LUN", lun: 5, prepare: premap(5, 1), wantKind: storage.KindLUNConflict, wantMaps: 1},
		{name: "already mapped at another number", lun: 5, prepare: premap(7, 0), wantKind: storage.KindLUNConflict, wantMaps: 1},
		{name: "already mapped, array chooses: existing LUN returned", lun: -1, prepare: premap(7, 0), want: 7, wantMaps: 1},
		{name: "already mapped at the requested number", lun: 7, prepare: premap(7, 0), want: 7, wantMaps: 1},
		{name: "other LUN mapped: array picks the next free", lun: -1, prepare: premap(0, 1), want: 1, wantMaps: 2, wantPost: 1},
		{name: "mapped concurrently (1254207 absorbed)", lun: -1, want: 0, wantMaps: 1, wantPost: 1, prepare: func(m *ontapModel) { m.raceLUNMap = true }},
		{name: "number out of range", lun: 4096, wantKind: storage.KindInvalid, prepare: func(*ontapModel) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { tc.prepare(m) })
			ctx := context.Background()
			h, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI})
			require.NoError(t, err)
			vol := f.volume(t, bootLUN)
			got, err := f.c.Map(ctx, h, vol, tc.lun)
			if tc.wantKind != storage.KindUnknown {
				require.Error(t, err)
				assert.Equal(t, tc.wantKind, storage.KindOf(err), "%v", err)
				if tc.wantKind == storage.KindLUNConflict {
					assert.ErrorIs(t, err, storage.ErrLUNConflict)
				}
			} else {
				require.NoError(t, err)
				assert.Equal(t, storage.Mapping{Volume: vol, HostID: h.ID, LUN: tc.want}, got)
			}
			assert.Equal(t, tc.wantMaps, f.m.count(func(m *ontapModel) int { return len(m.lunMaps) }))
			assert.Equal(t, tc.wantPost, f.m.requestsMatching("POST /api/protocols/san/lun-maps"))
		})
	}
}

func TestMapUnknownHost(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.c.Map(context.Background(), storage.Host{Name: "nohost"}, f.volume(t, bootLUN), -1)
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.ErrorContains(t, err, "EnsureHost")
	assert.Equal(t, 0, f.m.requestsMatching("POST "))
}

func TestLoginAuthFailure(t *testing.T) {
	f := newFixture(t, func(_ *ontapModel, c *ontap.Config) { c.Credentials.Secret = "wrong-password" })
	err := f.c.Login(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, storage.ErrAuth)
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusUnauthorized, se.Status)
	assert.Equal(t, "6", se.Code)
	assert.Equal(t, "ontap", se.Vendor)
}

func TestLoginUnknownSVM(t *testing.T) {
	f := newFixture(t, func(_ *ontapModel, c *ontap.Config) { c.SVM = "svm9" })
	err := f.c.Login(context.Background())
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.ErrorContains(t, err, "svm9")
}

// ONTAP has no session: a 401 in the middle of a run is final, and the client
// does not loop on it.
func TestUnauthorizedMidRunIsFinal(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	require.NoError(t, f.c.Login(ctx))
	f.m.set(func(m *ontapModel) { m.fail401 = 1 })
	_, err := f.c.Volumes(ctx)
	assert.ErrorIs(t, err, storage.ErrAuth)
	assert.Equal(t, 1, f.m.requestsMatching("GET /api/storage/luns"), "no retry with the same Basic credentials")
	_, err = f.c.Volumes(ctx)
	assert.NoError(t, err, "the next call works once the array accepts the credentials again")
}

func TestTLS(t *testing.T) {
	t.Run("private CA trusted", func(t *testing.T) {
		f := newFixture(t, nil)
		require.NoError(t, f.c.Login(context.Background()))
	})
	for name, hc := range map[string]*http.Client{"plain client": {}, "nil client (system roots)": nil} {
		t.Run("untrusted CA refused: "+name, func(t *testing.T) {
			f := newFixture(t, func(_ *ontapModel, c *ontap.Config) { c.HTTP = hc })
			err := f.c.Login(context.Background())
			require.Error(t, err)
			assert.ErrorContains(t, err, "--array-ca-file")
			assert.Equal(t, 0, f.m.requestsMatching(""), "no request (and so no credentials) reached the server")
		})
	}
}

func TestPaginationStaysOnTheArray(t *testing.T) {
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.foreignNext = true })
	_, err := f.c.Volumes(context.Background())
	require.Error(t, err)
	assert.ErrorContains(t, err, "refusing link")
	assert.Equal(t, 1, f.m.requestsMatching("GET /api/storage/luns"))
}

func TestTargetUnsupported(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(*ontapModel)
		proto   storage.Protocol
	}{
		{name: "iSCSI service off", proto: storage.ISCSI, prepare: func(m *ontapModel) { m.iscsiOn = false }},
		{name: "no data_iscsi interface up", proto: storage.ISCSI, prepare: func(m *ontapModel) { m.lifs = m.lifs[2:3] }},
		{name: "no NVMe service", proto: storage.NVMeTCP, prepare: func(*ontapModel) {}},
		{name: "no such protocol", proto: "fc", prepare: func(*ontapModel) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { tc.prepare(m) })
			_, err := f.c.Target(context.Background(), tc.proto)
			assert.ErrorIs(t, err, storage.ErrUnsupported)
		})
	}
}

func TestNVMeSequence(t *testing.T) {
	f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
		m.nvmeOn = true
		c.Protocol = storage.NVMeTCP
	})
	ctx := context.Background()
	vols, err := f.c.Volumes(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"/vol/vol_nvme/ns_boot", "/vol/vol_nvme/ns_data"}, []string{vols[0].Name, vols[1].Name})

	_, err = f.c.Target(ctx, storage.NVMeTCP)
	assert.ErrorContains(t, err, "EnsureHost", "the subsystem is not known before EnsureHost")

	spec := storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP}
	h, err := f.c.EnsureHost(ctx, spec)
	require.NoError(t, err)
	assert.True(t, h.Created)
	again, err := f.c.EnsureHost(ctx, spec)
	require.NoError(t, err)
	assert.False(t, again.Created)

	m1, err := f.c.Map(ctx, h, vols[0], -1)
	require.NoError(t, err)
	assert.Equal(t, 1, m1.LUN)
	m2, err := f.c.Map(ctx, h, vols[1], 5)
	require.NoError(t, err)
	assert.Equal(t, 5, m2.LUN)
	m2again, err := f.c.Map(ctx, h, vols[1], -1)
	require.NoError(t, err)
	assert.Equal(t, 5, m2again.LUN)
	_, err = f.c.Map(ctx, h, vols[0], 0)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "namespace ID 0 does not exist")

	tgt, err := f.c.Target(ctx, storage.NVMeTCP)
	require.NoError(t, err)
	assert.Equal(t, storage.Target{Name: "nqn.1992-08.com.netapp:sn.4f6b0c1e:subsystem." + hostName, Protocol: storage.NVMeTCP,
		Endpoints: []storage.Endpoint{{Address: "192.168.60.10", Port: 4420}}}, tgt)

	_, err = f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI})
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "an NVMe client refuses an iSCSI host")

	require.NoError(t, f.c.Unmap(ctx, h, vols[0]))
	require.NoError(t, f.c.Unmap(ctx, h, vols[1]))
	require.NoError(t, f.c.Unmap(ctx, h, vols[1]), "absent map is success")
	require.NoError(t, f.c.DeleteHost(ctx, h))
	require.NoError(t, f.c.DeleteHost(ctx, h), "absent subsystem is success")
	f.m.set(func(m *ontapModel) {
		assert.Empty(t, m.subMaps)
		assert.Empty(t, m.subs)
	})
}

func TestSnapshot(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	vol := f.volume(t, bootLUN)
	s, err := f.c.Snapshot(ctx, vol, "ohaweb01-pre-failback")
	require.NoError(t, err)
	assert.Equal(t, "ohaweb01-pre-failback", s.Name)
	assert.Equal(t, "vol_web01", s.Volume)
	assert.NotEmpty(t, s.ID)
	assert.GreaterOrEqual(t, f.m.requestsMatching("GET /api/cluster/jobs/"), 2, "the 202 job was waited for")

	again, err := f.c.Snapshot(ctx, vol, "ohaweb01-pre-failback")
	require.NoError(t, err)
	assert.Equal(t, s, again, "a re-run finds the same snapshot")
	assert.Equal(t, 1, f.m.requestsMatching("POST /api/storage/volumes/"))

	_, err = f.c.Snapshot(ctx, vol, "bad name;rm")
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
}

func TestSnapshotJobFailure(t *testing.T) {
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.failSnapJob = true })
	_, err := f.c.Snapshot(context.Background(), f.volume(t, bootLUN), "snap1")
	require.Error(t, err)
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "1638555", se.Code)
	assert.ErrorContains(t, err, "job")
}

func TestTeardown(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	o := runSetup(t, f.c, bootLUN, -1)
	vol := o.mapping.Volume

	err := f.c.DeleteHost(ctx, o.host)
	require.Error(t, err, "ONTAP refuses to delete a mapped igroup")
	require.NoError(t, f.c.Unmap(ctx, o.host, vol))
	require.NoError(t, f.c.Unmap(ctx, o.host, vol), "absent map is success")

	f.m.set(func(m *ontapModel) { m.igroups[0].initiators = append(m.igroups[0].initiators, otherIQN) })
	err = f.c.DeleteHost(ctx, o.host)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "an igroup that now holds a foreign initiator is not deleted")
	f.m.set(func(m *ontapModel) { m.igroups[0].initiators = m.igroups[0].initiators[:1] })

	require.NoError(t, f.c.DeleteHost(ctx, o.host))
	require.NoError(t, f.c.DeleteHost(ctx, o.host), "absent igroup is success")
	require.NoError(t, f.c.DeleteHost(ctx, storage.Host{Name: hostName}), "absent igroup by name is success")
	require.NoError(t, f.c.Unmap(ctx, o.host, vol), "unmap after the host is gone is success")
	require.NoError(t, f.c.DeleteVolume(ctx, vol))
	require.NoError(t, f.c.DeleteVolume(ctx, vol), "absent volume is success")

	f.m.set(func(m *ontapModel) {
		assert.Empty(t, m.lunMaps)
		assert.Empty(t, m.igroups)
		assert.Len(t, m.luns, 4)
		for _, u := range m.luns {
			assert.NotEqual(t, bootLUN, u.name)
		}
	})
}

func TestNewValidation(t *testing.T) {
	good := ontap.Config{Endpoint: "https://cluster1.example:8443", Credentials: storage.Credentials{Username: "admin", Secret: "pw"}, SVM: "svm1"}
	tests := []struct {
		name    string
		mutate  func(*ontap.Config)
		wantErr string
	}{
		{name: "valid", mutate: func(*ontap.Config) {}},
		{name: "http refused", mutate: func(c *ontap.Config) { c.Endpoint = "http://cluster1" }, wantErr: "clear text"},
		{name: "credentials in URL", mutate: func(c *ontap.Config) { c.Endpoint = "https://admin:pw@cluster1" }, wantErr: "user:password@"},
		{name: "path", mutate: func(c *ontap.Config) { c.Endpoint = "https://cluster1/api" }, wantErr: "only https://host[:port]"},
		{name: "empty endpoint", mutate: func(c *ontap.Config) { c.Endpoint = "" }, wantErr: "Endpoint"},
		{name: "no host", mutate: func(c *ontap.Config) { c.Endpoint = "https://" }, wantErr: "no host"},
		{name: "no user", mutate: func(c *ontap.Config) { c.Credentials.Username = "" }, wantErr: "Username"},
		{name: "no password", mutate: func(c *ontap.Config) { c.Credentials.Secret = "" }, wantErr: "Secret"},
		{name: "no SVM", mutate: func(c *ontap.Config) { c.SVM = "" }, wantErr: "SVM"},
		{name: "SVM with query operators", mutate: func(c *ontap.Config) { c.SVM = "svm*" }, wantErr: "SVM"},
		{name: "bad protocol", mutate: func(c *ontap.Config) { c.Protocol = "fc" }, wantErr: "Protocol"},
		{name: "bad subsystem", mutate: func(c *ontap.Config) { c.Subsystem = "a|b" }, wantErr: "Subsystem"},
		{name: "page size", mutate: func(c *ontap.Config) { c.PageSize = -1 }, wantErr: "PageSize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mutate(&cfg)
			c, err := ontap.New(cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.NotContains(t, err.Error(), "pw@", "the error does not echo credentials")
		})
	}
}

func TestInputValidationSendsNothing(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tests := map[string]func() error{
		"host name with query operator": func() error {
			_, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: "oha*", Initiator: initiatorIQN, Protocol: storage.ISCSI})
			return err
		},
		"bad IQN": func() error {
			_, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: "iqn.bad", Protocol: storage.ISCSI})
			return err
		},
		"bad OS": func() error {
			_, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: "vms"})
			return err
		},
		"volume without ID": func() error {
			_, err := f.c.Map(ctx, storage.Host{ID: "a-b"}, storage.Volume{Name: bootLUN}, -1)
			return err
		},
		"volume ID with a path": func() error { return f.c.DeleteVolume(ctx, storage.Volume{ID: "../../cluster"}) },
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			err := call()
			assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "%v", err)
		})
	}
	assert.Equal(t, 0, f.m.requestsMatching(""))
}

// TestNoSecretInLogsOrErrors runs the whole sequence, failures included, with
// Debug logging into a buffer, and scans every log line and error string.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.firstAutoLUN = 26 })
	ctx := context.Background()
	var texts []string
	keep := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		}
	}
	o := runSetup(t, f.c, bootLUN, -1)
	runSetup(t, f.c, bootLUN, -1)
	_, err := f.c.Map(ctx, o.host, o.mapping.Volume, 3)
	require.Error(t, err)
	keep(err)
	_, err = f.c.Target(ctx, storage.NVMeTCP)
	keep(err)
	_, err = f.c.Snapshot(ctx, o.mapping.Volume, "snap-1")
	keep(err)
	keep(f.c.DeleteHost(ctx, o.host))
	f.m.set(func(m *ontapModel) { m.fail401 = 1 })
	_, err = f.c.Volumes(ctx)
	keep(err)

	wrong := "Wr0ng-Pa55word-xyz"
	bad := f.cfg
	bad.Credentials.Secret = wrong
	bc, err := ontap.New(bad)
	require.NoError(t, err)
	keep(bc.Login(ctx))
	_, err = ontap.New(ontap.Config{Endpoint: "https://admin:" + f.m.pass + "@x", Credentials: f.cfg.Credentials, SVM: "svm1"})
	keep(err)

	texts = append(texts, f.logs.String(),
		fmt.Sprintf("%v %+v %#v %s", f.c, f.c, f.c, f.c),
		fmt.Sprintf("%v %+v %#v", f.cfg, f.cfg, f.cfg))
	require.Contains(t, f.logs.String(), "status=201", "the log really traced the requests")
	require.GreaterOrEqual(t, len(texts), 8)
	for _, secret := range []string{f.m.pass, wrong,
		base64.StdEncoding.EncodeToString([]byte(f.m.user + ":" + f.m.pass))} {
		storagetest.NoSecret(t, secret, texts...)
	}
	assert.False(t, strings.Contains(strings.Join(texts, "\n"), "Authorization"), "no auth header is logged")
}
