package pure

import (
	"context"

	"github.com/outposts-ha/outposts-ha/internal/storage"
)

// The storage.Array methods. Each runs the implementation (the op* method of
// the same name, documented there) and passes what it returns through the
// redactor: no error leaves the client holding any form of the API token or
// of a session token, or a control character.

// Login picks the REST version and opens a session (see opLogin).
func (c *Client) Login(ctx context.Context) error { return c.red.Scrub(c.opLogin(ctx)) }

// Logout closes the session (see opLogout).
func (c *Client) Logout(ctx context.Context) error { return c.red.Scrub(c.opLogout(ctx)) }

// Volumes lists the volumes that are not destroyed (see opVolumes).
func (c *Client) Volumes(ctx context.Context) ([]storage.Volume, error) {
	v, err := c.opVolumes(ctx)
	return v, c.red.Scrub(err)
}

// EnsureHost finds or creates the host (see opEnsureHost).
func (c *Client) EnsureHost(ctx context.Context, h storage.HostSpec) (storage.Host, error) {
	host, err := c.opEnsureHost(ctx, h)
	return host, c.red.Scrub(err)
}

// Map connects the volume to the host (see opMap).
func (c *Client) Map(ctx context.Context, host storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	m, err := c.opMap(ctx, host, vol, lun)
	return m, c.red.Scrub(err)
}

// Target returns the target name and portals (see opTarget).
func (c *Client) Target(ctx context.Context, p storage.Protocol) (storage.Target, error) {
	t, err := c.opTarget(ctx, p)
	return t, c.red.Scrub(err)
}

// Snapshot makes or finds the volume snapshot (see opSnapshot).
func (c *Client) Snapshot(ctx context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	s, err := c.opSnapshot(ctx, vol, name)
	return s, c.red.Scrub(err)
}

// Unmap disconnects the volume from the host (see opUnmap).
func (c *Client) Unmap(ctx context.Context, host storage.Host, vol storage.Volume) error {
	return c.red.Scrub(c.opUnmap(ctx, host, vol))
}

// DeleteHost deletes the host (see opDeleteHost).
func (c *Client) DeleteHost(ctx context.Context, host storage.Host) error {
	return c.red.Scrub(c.opDeleteHost(ctx, host))
}

// DeleteVolume destroys the volume (see opDeleteVolume).
func (c *Client) DeleteVolume(ctx context.Context, vol storage.Volume) error {
	return c.red.Scrub(c.opDeleteVolume(ctx, vol))
}
