package main

import (
	"runtime/debug"
	"strings"
)

// versionString is what `version` and `--version` print.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return formatVersion(version, bi)
}

// formatVersion prefers the version set with -ldflags -X main.version (make
// build), then the module version Go stamps into go install / go build
// binaries, and appends the VCS revision, time and a modified-tree mark when
// the build recorded them. It never answers a bare "(devel)".
func formatVersion(ldflags string, bi *debug.BuildInfo) string {
	v := strings.TrimSpace(ldflags)
	var rev, when string
	modified := false
	goVersion := ""
	if bi != nil {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if v == "" {
		switch {
		case rev != "":
			v = "devel-" + rev
			if modified {
				v += "-dirty"
			}
		default:
			v = "devel (built without version or VCS information: use make build, or go build / go install in a git checkout with VCS stamping on, -buildvcs=auto or true)"
		}
	}
	var extra []string
	if rev != "" && !strings.Contains(v, rev) {
		c := "commit " + rev
		if modified {
			c += ", modified tree"
		}
		extra = append(extra, c)
	}
	if when != "" {
		extra = append(extra, when)
	}
	if goVersion != "" {
		extra = append(extra, goVersion)
	}
	if len(extra) > 0 {
		v += " (" + strings.Join(extra, ", ") + ")"
	}
	return v
}
