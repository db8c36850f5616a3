package record_test

// Fuzzing of what a reader accepts from Parameter Store (a value another
// machine, an older binary or a person wrote): Decode never panics, never
// expands without bound, and what it accepts re-encodes to the same journal.
// Pure code, no fakes needed.

import (
	"strings"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/record"
)

func FuzzDecodeJournal(f *testing.F) {
	j := sampleJournal()
	plain, _, err := record.Encode(j)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	big := sampleJournal()
	for range 80 {
		big.Steps[0].Resources = append(big.Steps[0].Resources, big.Steps[1].Resources...)
	}
	gz, _, err := record.Encode(big)
	if err != nil {
		f.Fatal(err)
	}
	if !strings.HasPrefix(gz, record.GzipPrefix) {
		f.Fatal("seed is not compressed")
	}
	f.Add(gz)
	f.Add(record.GzipPrefix)
	f.Add(`{"schema":1,"steps":[{"name":"x","state":"done"}]}`)
	f.Add(`{"schema":1e999}`)
	f.Fuzz(func(t *testing.T, s string) {
		var got record.Journal
		if err := record.Decode(s, &got); err != nil {
			return
		}
		again, _, err := record.Encode(got)
		if err != nil {
			return // too large to store: the writer refuses it, fine
		}
		var back record.Journal
		if err := record.Decode(again, &back); err != nil {
			t.Fatalf("re-encoded journal does not decode: %v", err)
		}
		// Encoding what was decoded is stable: a journal read and written
		// back by another machine does not drift.
		third, _, err := record.Encode(back)
		if err != nil || third != again {
			t.Fatalf("round trip changed the journal (%v):\n%s\n%s", err, again, third)
		}
	})
}
