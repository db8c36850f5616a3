// Package sanboot renders everything an Outposts server instance needs to boot
// from, and attach, volumes on a SAN array: initiator identities, the iPXE script
// (iSCSI SAN boot), the LocalBoot user data (NVMe/TCP or iSCSI hydration), the
// guest data-volume scripts and the multipart user data that carries them.
//
// It is pure: no AWS, no network, no clock, no randomness except through the
// UUIDs its callers pass in. Every value that reaches a rendered script is
// validated first, so nothing an operator types can add a line or a command.
package sanboot
