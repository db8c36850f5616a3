package ontap

import (
	"context"

	"github.com/outposts-ha/outposts-ha/internal/storage"
)

// The storage.Array methods. Each runs the implementation (the op* method of
// the same name, documented there) and passes what it returns through the
// redactor: no error leaves the client holding any form of the password
// (plain, JSON-escaped, base64 of user:password as in the Basic header), or a
// control character.

// Login proves the credentials and the SVM (see opLogin).
func (c *Client) Login(ctx context.Context) error { return c.red.Scrub(c.opLogin(ctx)) }

// Logout does nothing: ONTAP REST has no session (see opLogout).
func (c *Client) Logout(ctx context.Context) error { return c.red.Scrub(c.opLogout(ctx)) }

// Volumes lists the LUNs or namespaces of the SVM (see opVolumes).
func (c *Client) Volumes(ctx context.Context) ([]storage.Volume, error) {
	v, err := c.opVolumes(ctx)
	return v, c.red.Scrub(err)
}

// EnsureHost finds or creates the igroup or subsystem (see opEnsureHost).
func (c *Client) EnsureHost(ctx context.Context, h storage.HostSpec) (storage.Host, error) {
	host, err := c.opEnsureHost(ctx, h)
	return host, c.red.Scrub(err)
}

// Map maps the volume to the host (see opMap).
func (c *Client) Map(ctx context.Context, host storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	m, err := c.opMap(ctx, host, vol, lun)
	return m, c.red.Scrub(err)
}

// Target returns the target name and portals (see opTarget).
func (c *Client) Target(ctx context.Context, p storage.Protocol) (storage.Target, error) {
	t, err := c.opTarget(ctx, p)
	return t, c.red.Scrub(err)
}

// Snapshot makes or finds the snapshot (see opSnapshot).
func (c *Client) Snapshot(ctx context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	s, err := c.opSnapshot(ctx, vol, name)
	return s, c.red.Scrub(err)
}

// Unmap removes the map (see opUnmap).
func (c *Client) Unmap(ctx context.Context, host storage.Host, vol storage.Volume) error {
	return c.red.Scrub(c.opUnmap(ctx, host, vol))
}

// DeleteHost deletes the igroup or subsystem (see opDeleteHost).
func (c *Client) DeleteHost(ctx context.Context, host storage.Host) error {
	return c.red.Scrub(c.opDeleteHost(ctx, host))
}

// DeleteVolume deletes the LUN or namespace (see opDeleteVolume).
func (c *Client) DeleteVolume(ctx context.Context, vol storage.Volume) error {
	return c.red.Scrub(c.opDeleteVolume(ctx, vol))
}
