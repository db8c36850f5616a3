package ontap_test

// Contract tests against a hostile or broken ONTAP: the real client over real
// HTTPS against the model in model_test.go with its hostile knobs (echo,
// foreverPages, padPages, refuse). No fakes of the client.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/ontap"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

// TestEchoedSecretsNeverLeak: the cluster echoes, in every error body and in
// response headers, the Authorization header (base64 of user:password), the
// password in plain, upper-cased and base64, and a JSON login body holding
// it. A failed login, refused calls and a mid-run 401 all happen, and a LUN is
// named after the password. No form of the password may reach an error, a log
// line or a returned value.
func TestEchoedSecretsNeverLeak(t *testing.T) {
	const password = `Ont@p"S3cret\pw<x>&`
	f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
		m.pass, c.Credentials.Secret = password, password
		m.echo = true
		m.luns = append(m.luns, &mUnit{uuid: m.id(), name: "/vol/vol_web01/" + password, size: 1, volUUID: m.luns[0].volUUID, volName: "vol_web01"})
	})
	ctx := context.Background()
	var texts []string
	redacted := 0
	keep := func(err error) {
		require.Error(t, err)
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		redacted = strings.Count(err.Error(), storage.Redacted)
	}
	o := runSetup(t, f.c, bootLUN, -1)
	texts = append(texts, fmt.Sprint(o))
	assert.Len(t, o.vols, 5, "a LUN named after the password is left out")
	keep(f.c.DeleteHost(ctx, o.host)) // refused: the igroup is mapped; the body echoes the Basic header
	assert.GreaterOrEqual(t, redacted, 5, "the echo reached the client: header line, plain, upper, base64, JSON")
	keep(f.c.DeleteVolume(ctx, o.mapping.Volume))
	f.m.set(func(m *ontapModel) { m.fail401 = 1 })
	_, err := f.c.Volumes(ctx)
	keep(err)

	typo := password + "typo"
	bad := f.cfg
	bad.Credentials.Secret = typo
	bc, err := ontap.New(bad)
	require.NoError(t, err)
	keep(bc.Login(ctx))

	texts = append(texts, f.logs.String())
	storagetest.NoSecretForms(t, f.m.user, password, texts...)
	storagetest.NoSecretForms(t, f.m.user, typo, texts...)
}

// TestEndlessPagingStops: a cluster whose every page links a fresh next
// page, or whose pages are huge, ends in a clear error.
func TestEndlessPagingStops(t *testing.T) {
	t.Run("pages", func(t *testing.T) {
		f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.foreverPages = true })
		_, err := f.c.Volumes(context.Background())
		require.Error(t, err)
		assert.ErrorContains(t, err, fmt.Sprintf("%d pages", storage.MaxListPages))
		n := f.m.requestsMatching("GET /api/storage/luns")
		assert.LessOrEqual(t, n, storage.MaxListPages+1)
		assert.GreaterOrEqual(t, n, storage.MaxListPages)
	})
	t.Run("bytes", func(t *testing.T) {
		f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.foreverPages, m.padPages = true, 4<<20 })
		_, err := f.c.Volumes(context.Background())
		require.Error(t, err)
		assert.ErrorContains(t, err, "MiB")
		assert.LessOrEqual(t, f.m.requestsMatching("GET /api/storage/luns"), storage.MaxListBytes/(4<<20)+1)
	})
}

// TestArrayTextCannotForgeOutput: terminal escapes in the target IQN, an
// interface address with an IPv6 zone and a LUN name. The IQN is refused
// (not cleaned into another), the address and the LUN are dropped, and
// nothing forged reaches a returned value, an error or a log line.
func TestArrayTextCannotForgeOutput(t *testing.T) {
	const forge = "\x1b[2K\r\x1b[1Aarray check: OK\u202e"
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) {
		m.lifs[0].addr = "fe80::1%e0a" + forge
		m.luns = append(m.luns, &mUnit{uuid: m.id(), name: "/vol/vol_web01/x" + forge, size: 1, volUUID: m.luns[0].volUUID, volName: "vol_web01"})
	})
	ctx := context.Background()
	vols, err := f.c.Volumes(ctx)
	require.NoError(t, err)
	assert.Len(t, vols, 5)
	tgt, err := f.c.Target(ctx, storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, []storage.Endpoint{{Address: "192.168.50.11", Port: 3260}}, tgt.Endpoints)
	f.m.set(func(m *ontapModel) { m.iscsiIQN += forge })
	_, terr := f.c.Target(ctx, storage.ISCSI)
	require.Error(t, terr)
	for _, s := range []string{fmt.Sprint(vols, tgt), terr.Error(), f.logs.String()} {
		assert.NotContains(t, s, "\x1b")
		assert.NotContains(t, s, "\u202e")
		assert.NotContains(t, s, "\r")
	}
}

// TestRefusedDeletesAreNotSuccess: the cluster refuses the unmap, the igroup
// delete and the LUN delete while the objects are still there, once with a
// plain refusal and once with a "not found" code it should not have sent.
// Only an object that is gone on a re-read is success.
func TestRefusedDeletesAreNotSuccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   string
	}{
		{name: "refused", status: 400, code: "5374921"},
		{name: "claims not found", status: 404, code: "4"},
		{name: "claims map not found", status: 404, code: "5374922"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := context.Background()
			o := runSetup(t, f.c, bootLUN, -1)
			f.m.set(func(m *ontapModel) { m.refuse, m.refuseCode = tc.status, tc.code })
			uerr := f.c.Unmap(ctx, o.host, o.mapping.Volume)
			assert.Error(t, uerr, "map still there")
			assert.NotErrorIs(t, uerr, storage.ErrNotFound, "never absorbable as already gone")
			f.m.set(func(m *ontapModel) { m.lunMaps = nil })
			herr := f.c.DeleteHost(ctx, o.host)
			assert.Error(t, herr, "igroup still there")
			assert.NotErrorIs(t, herr, storage.ErrNotFound)
			verr := f.c.DeleteVolume(ctx, o.mapping.Volume)
			assert.Error(t, verr, "LUN still there")
			assert.NotErrorIs(t, verr, storage.ErrNotFound)
			f.m.set(func(m *ontapModel) {
				assert.Len(t, m.igroups, 1)
				assert.Len(t, m.luns, 5)
				m.refuse = 0
			})
			require.NoError(t, f.c.DeleteHost(ctx, o.host))
			require.NoError(t, f.c.DeleteVolume(ctx, o.mapping.Volume))
			require.NoError(t, f.c.Unmap(ctx, o.host, o.mapping.Volume), "gone is success")
		})
	}
}
