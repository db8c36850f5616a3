package generic_test

// Unit tests of the generic vendor. It has no API to model; Probe is tested
// against real TCP on loopback: a listener this test opens, and a port it
// opened and closed again.

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/generic"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const (
	targetIQN    = "iqn.2001-05.com.example:storage.lun-box.tgt1"
	targetNQN    = "nqn.2001-05.com.example:storage.nvme-box.sub1"
	initiatorIQN = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	hostNQN      = "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
)

func iscsiConfig() generic.Config {
	return generic.Config{
		Target: storage.Target{Name: targetIQN, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{
			{Address: "192.168.50.30", Port: 3260}, {Address: "192.168.50.31"},
		}},
		LUN:       26,
		Initiator: initiatorIQN,
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*generic.Config)
		wantErr string
	}{
		{name: "valid", mutate: func(*generic.Config) {}},
		{name: "valid NVMe", mutate: func(c *generic.Config) {
			c.Target = storage.Target{Name: targetNQN, Protocol: storage.NVMeTCP, Endpoints: []storage.Endpoint{{Address: "fd00::30"}}}
			c.Initiator, c.LUN = hostNQN, 1
		}},
		{name: "no protocol", mutate: func(c *generic.Config) { c.Target.Protocol = "" }, wantErr: "protocol"},
		{name: "bad target IQN", mutate: func(c *generic.Config) { c.Target.Name = "iqn.2001-05.com.example:Upper" }, wantErr: "target name"},
		{name: "NQN as iSCSI target", mutate: func(c *generic.Config) { c.Target.Name = targetNQN }, wantErr: "target name"},
		{name: "no portals", mutate: func(c *generic.Config) { c.Target.Endpoints = nil }, wantErr: "no portals"},
		{name: "host name portal", mutate: func(c *generic.Config) { c.Target.Endpoints[0].Address = "san.example" }, wantErr: "IP address"},
		{name: "portal with a newline", mutate: func(c *generic.Config) { c.Target.Endpoints[0].Address = "192.168.50.30\nsanboot" }, wantErr: "IP address"},
		{name: "zone", mutate: func(c *generic.Config) { c.Target.Endpoints[0].Address = "fe80::1%eth1" }, wantErr: "zone"},
		{name: "port out of range", mutate: func(c *generic.Config) { c.Target.Endpoints[0].Port = 70000 }, wantErr: "port"},
		{name: "duplicate portal (default port)", mutate: func(c *generic.Config) { c.Target.Endpoints[1].Address = "192.168.50.30" }, wantErr: "twice"},
		{name: "LUN too big", mutate: func(c *generic.Config) { c.LUN = 4096 }, wantErr: "LUN"},
		{name: "negative LUN", mutate: func(c *generic.Config) { c.LUN = -1 }, wantErr: "LUN"},
		{name: "NVMe namespace 0", mutate: func(c *generic.Config) {
			c.Target = storage.Target{Name: targetNQN, Protocol: storage.NVMeTCP, Endpoints: []storage.Endpoint{{Address: "192.168.60.30"}}}
			c.Initiator, c.LUN = hostNQN, 0
		}, wantErr: "LUN 0"},
		{name: "bad initiator", mutate: func(c *generic.Config) { c.Initiator = "iqn.bad" }, wantErr: "initiator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := iscsiConfig()
			cfg.Target.Endpoints = append([]storage.Endpoint(nil), cfg.Target.Endpoints...)
			tc.mutate(&cfg)
			c, err := generic.New(cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestSetupSequence(t *testing.T) {
	c, err := generic.New(iscsiConfig())
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Login(ctx))
	vols, err := c.Volumes(ctx)
	require.NoError(t, err)
	require.Len(t, vols, 1)
	assert.Equal(t, "LUN 26 of "+targetIQN, vols[0].Name)

	before := c.Instructions()
	assert.Contains(t, before, initiatorIQN, "the configured initiator is named even before EnsureHost")

	h, err := c.EnsureHost(ctx, storage.HostSpec{Name: "ohaweb01", Initiator: initiatorIQN, Protocol: storage.ISCSI})
	require.NoError(t, err)
	assert.Equal(t, storage.Host{ID: "ohaweb01", Name: "ohaweb01", Initiators: []string{initiatorIQN}, Created: false}, h)

	ins := c.Instructions()
	for _, want := range []string{"changed nothing", "allow initiator " + initiatorIQN, "target " + targetIQN, "as LUN 26",
		"192.168.50.30:3260, 192.168.50.31:3260", "CHAP", "no other initiator"} {
		assert.Contains(t, ins, want)
	}

	m, err := c.Map(ctx, h, vols[0], -1)
	require.NoError(t, err)
	assert.Equal(t, storage.Mapping{Volume: vols[0], HostID: "ohaweb01", LUN: 26}, m)
	m, err = c.Map(ctx, h, storage.Volume{}, 26)
	require.NoError(t, err)
	assert.Equal(t, 26, m.LUN)
	assert.Equal(t, vols[0], m.Volume, "an empty volume means the one described")
	_, err = c.Map(ctx, h, vols[0], 3)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "this tool cannot move the LUN")
	_, err = c.Map(ctx, h, storage.Volume{ID: "other"}, -1)
	assert.ErrorIs(t, err, storage.ErrNotFound)

	tgt, err := c.Target(ctx, storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, []storage.Endpoint{{Address: "192.168.50.30", Port: 3260}, {Address: "192.168.50.31", Port: 3260}}, tgt.Endpoints, "port 0 became 3260")
	tgt.Endpoints[0].Address = "10.9.9.9"
	again, err := c.Target(ctx, storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, "192.168.50.30", again.Endpoints[0].Address, "callers get a copy")
	_, err = c.Target(ctx, storage.NVMeTCP)
	assert.ErrorIs(t, err, storage.ErrUnsupported)
	require.NoError(t, c.Logout(ctx))

	var portals []sanboot.Portal
	for _, e := range again.Endpoints {
		portals = append(portals, sanboot.Portal{Addr: netip.MustParseAddr(e.Address), Port: uint16(e.Port)})
	}
	script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiatorIQN, TargetIQN: again.Name, Portals: portals, LUN: m.LUN, LNI: &sanboot.LNI{Index: 1}})
	require.NoError(t, err)
	assert.Contains(t, string(script), "iscsi:192.168.50.30::3260:1a:"+targetIQN)
}

func TestEnsureHostChecks(t *testing.T) {
	c, err := generic.New(iscsiConfig())
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.EnsureHost(ctx, storage.HostSpec{Name: "ohaweb01", Initiator: "iqn.2006-03.com.amazon.aws:someone-else", Protocol: storage.ISCSI})
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "an initiator the array was not set up for")
	assert.ErrorContains(t, err, initiatorIQN)
	_, err = c.EnsureHost(ctx, storage.HostSpec{Name: "ohaweb01", Initiator: hostNQN, Protocol: storage.NVMeTCP})
	assert.ErrorIs(t, err, storage.ErrUnsupported)
	_, err = c.EnsureHost(ctx, storage.HostSpec{Name: "oha web01", Initiator: initiatorIQN, Protocol: storage.ISCSI})
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
}

func TestNVMeInstructions(t *testing.T) {
	c, err := generic.New(generic.Config{
		Target: storage.Target{Name: targetNQN, Protocol: storage.NVMeTCP, Endpoints: []storage.Endpoint{{Address: "fd00::30"}}},
		LUN:    2,
	})
	require.NoError(t, err)
	_, err = c.EnsureHost(context.Background(), storage.HostSpec{Name: "ohaweb01", Initiator: hostNQN, Protocol: storage.NVMeTCP})
	require.NoError(t, err)
	ins := c.Instructions()
	assert.Contains(t, ins, "allow host NQN "+hostNQN+" on subsystem "+targetNQN)
	assert.Contains(t, ins, "namespace ID 2")
	assert.Contains(t, ins, "[fd00::30]:4420")
	assert.NotContains(t, ins, "CHAP")
}

func TestArraySideChangesAreTheOperatorsJob(t *testing.T) {
	c, err := generic.New(iscsiConfig())
	require.NoError(t, err)
	ctx := context.Background()
	h := storage.Host{ID: "ohaweb01", Name: "ohaweb01", Initiators: []string{initiatorIQN}}
	vol := storage.Volume{ID: "lun-26"}
	_, snapErr := c.Snapshot(ctx, vol, "pre-failback")
	for name, err := range map[string]error{
		"snapshot":      snapErr,
		"unmap":         c.Unmap(ctx, h, vol),
		"delete host":   c.DeleteHost(ctx, h),
		"delete volume": c.DeleteVolume(ctx, vol),
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, err)
			assert.ErrorIs(t, err, storage.ErrUnsupported)
			assert.ErrorContains(t, err, "by hand")
		})
	}
	assert.ErrorContains(t, c.Unmap(ctx, h, vol), "remove LUN 26 from initiator "+initiatorIQN)
	assert.ErrorContains(t, c.DeleteHost(ctx, h), "access list of "+targetIQN)
}

func TestProbe(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { open.Close() })
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		if conn, err := open.Accept(); err == nil {
			conn.Close()
		}
	}()

	gone, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := gone.Addr().(*net.TCPAddr).Port
	require.NoError(t, gone.Close())

	openPort := open.Addr().(*net.TCPAddr).Port
	c, err := generic.New(generic.Config{
		Target: storage.Target{Name: targetIQN, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{
			{Address: "127.0.0.1", Port: openPort}, {Address: "127.0.0.1", Port: closedPort},
		}},
		LUN: 0,
	})
	require.NoError(t, err)

	got := c.Probe(context.Background(), 2*time.Second)
	require.Len(t, got, 2)
	assert.Equal(t, storage.Endpoint{Address: "127.0.0.1", Port: openPort}, got[0].Endpoint)
	assert.True(t, got[0].Reachable)
	assert.NoError(t, got[0].Err)
	assert.Equal(t, storage.Endpoint{Address: "127.0.0.1", Port: closedPort}, got[1].Endpoint)
	assert.False(t, got[1].Reachable)
	assert.ErrorContains(t, got[1].Err, strconv.Itoa(closedPort))
	select { // the listener really saw the probe's connection
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never accepted the probe's connection")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, s := range c.Probe(ctx, 0) {
		assert.False(t, s.Reachable, "a cancelled probe reports, it does not hang or panic")
		assert.Error(t, s.Err)
	}
}

// TestProbeManyPortals: more portals than MaxConcurrentProbes all get their
// own result, in portal order (real loopback listeners, no fakes).
func TestProbeManyPortals(t *testing.T) {
	var eps []storage.Endpoint
	for range 3 * generic.MaxConcurrentProbes {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		eps = append(eps, storage.Endpoint{Address: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port})
	}
	c, err := generic.New(generic.Config{Target: storage.Target{Name: targetIQN, Protocol: storage.ISCSI, Endpoints: eps}})
	require.NoError(t, err)
	got := c.Probe(context.Background(), 5*time.Second)
	require.Len(t, got, len(eps))
	for i, s := range got {
		assert.Equal(t, eps[i], s.Endpoint)
		assert.True(t, s.Reachable, "%v: %v", s.Endpoint, s.Err)
	}
}
