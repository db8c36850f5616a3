package tui

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// SavePathError is a --save-answers path that cannot be used. It is found
// before the first question, so nothing typed is lost to it.
type SavePathError struct {
	Path string
	Msg  string
	Err  error
}

func (e *SavePathError) Error() string { return e.Path + ": " + e.Msg }
func (e *SavePathError) Unwrap() error { return e.Err }

// CheckSavePath checks, before any question is asked, that the answers can be
// saved at path: it must not exist (answers are never overwritten), and its
// folder must exist and be writable. AskAnswers calls it when
// Options.SavePath is set; cmd may call it earlier.
func CheckSavePath(path string) error {
	if path == "" {
		return &SavePathError{Path: path, Msg: "is empty: give the file to save the answers to", Err: fs.ErrInvalid}
	}
	if _, err := os.Lstat(path); err == nil {
		return &SavePathError{Path: path, Msg: "exists: answers are never overwritten; choose another --save-answers path, or run `outposts-ha plan " + path + "` on it", Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return &SavePathError{Path: path, Msg: err.Error(), Err: err}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return &SavePathError{Path: path, Msg: "its folder " + dir + " does not exist: create it first", Err: fs.ErrNotExist}
	}
	f, err := os.CreateTemp(dir, ".outposts-ha-write-check-*")
	if err != nil {
		return &SavePathError{Path: path, Msg: "its folder " + dir + " is not writable", Err: err}
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return &SavePathError{Path: path, Msg: "could not remove the write check " + name, Err: err}
	}
	return nil
}

// encodeAnswers writes the spec as an answers file: only the keys that carry a
// value, so no `lni: {}`, `boot: {}` or `guest: {}` stubs.
func encodeAnswers(s *spec.Spec) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(s); err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	prune(&n)
	var b bytes.Buffer
	b.WriteString("# outposts-ha answers for workload " + s.Workload + ". Secrets are never stored here,\n" +
		"# only where they live (Secrets Manager ARN, environment variable, or prompt).\n" +
		"# identity.uuid pins the initiator identity: keep it, or the array must be re-mapped.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	return b.Bytes(), nil
}

// prune drops keys whose value is empty: "", an empty mapping or sequence.
func prune(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			prune(c)
		}
		return false
	case yaml.MappingNode:
		var keep []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !prune(n.Content[i+1]) {
				keep = append(keep, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = keep
		return len(keep) == 0
	case yaml.SequenceNode:
		for _, c := range n.Content {
			prune(c)
		}
		return len(n.Content) == 0
	case yaml.ScalarNode:
		return n.Tag == "!!str" && n.Value == ""
	}
	return false
}

// saveAnswers writes the answers to path, never over an existing file.
func saveAnswers(path string, s *spec.Spec) error {
	data, err := encodeAnswers(s)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return &SavePathError{Path: path, Msg: "appeared while the questions were asked: answers are never overwritten", Err: err}
	}
	if err != nil {
		return fmt.Errorf("save answers: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("save answers to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save answers to %s: %w", path, err)
	}
	return nil
}
