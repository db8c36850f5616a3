// Package inittest guards the start-up cost of the shipped binaries (issue 17):
// every linked package's init runs on every start of outposts-ha, whatever the
// command, so the project's own packages must not compile regular expressions or
// build tables at package init. The package has tests only.
package inittest
