package tui

// Unit tests, no fakes: huh forms in accessible mode, fed line by line as a
// terminal would, build a spec that the answers-file validation accepts.

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccessibleAnswersGenericISCSI(t *testing.T) {
	in := strings.Join([]string{
		"web01", "us-west-2", "1", // workload, region, linux
		"5", "1", // generic, iscsi
		"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10, 192.168.50.11:3260", "26", "",
		"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "",
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01",
		"2", "192.168.50.20/24", "192.168.50.1", // static LNI
		"1", "ops@example.com", // confirmed
		"y",
	}, "\n") + "\n"
	var out bytes.Buffer
	s, err := AskAnswers(context.Background(), Options{Accessible: true, In: strings.NewReader(in), Out: &out})
	require.NoError(t, err, out.String())
	assert.Equal(t, "web01", s.Workload)
	assert.Equal(t, "generic", s.Storage.Vendor)
	assert.Equal(t, []string{"192.168.50.10", "192.168.50.11:3260"}, s.Storage.Boot.Portals)
	require.NotNil(t, s.Storage.Boot.LUN)
	assert.Equal(t, 26, *s.Storage.Boot.LUN)
	require.NotNil(t, s.LNI.Static)
	assert.Equal(t, "192.168.50.20/24", s.LNI.Static.Address)
	assert.Equal(t, "confirmed", s.Failover.Policy)
	assert.Nil(t, s.Storage.Management)
}

func TestAccessibleAnswersRepromptOnBadValue(t *testing.T) {
	in := strings.Join([]string{
		"Web01", "web01", // uppercase refused, then fixed
		"us-west-2", "1",
		"1", "1", // ontap, iscsi
		"http://ontap1", "https://ontap1.example.net", "oha", "svm1", "1", // http refused; secrets manager
		"arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/ontap-AbCdEf",
		"/vol/web01/boot", "IQN.1992-08.com.netapp:x", "iqn.1992-08.com.netapp:sn.1:vs.3", "192.168.50.10", "x", "1", "",
		"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "",
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "ops", "oha-web01",
		"1",
		"3", "ops@example.com", // automatic
		"yes please", "I accept that a primary cut off only from the Region may still be writing to the SAN",
		"y",
	}, "\n") + "\n"
	var out bytes.Buffer
	s, err := AskAnswers(context.Background(), Options{Accessible: true, In: strings.NewReader(in), Out: &out})
	// automatic needs the primary Outpost ID, which was left empty: the final
	// validation catches it and names the field.
	require.Error(t, err)
	assert.Nil(t, s)
	assert.Contains(t, err.Error(), "outposts.primary_outpost")
	text := out.String()
	assert.Contains(t, text, "lowercase", "the uppercase workload name was refused")
	assert.Contains(t, text, "does not use https")
	assert.Contains(t, text, "is not a whole number")
	assert.Contains(t, text, "N+1 needs two servers")
	assert.Contains(t, text, "does not carry the required acknowledgement")
}

func TestDeclineWritesNothing(t *testing.T) {
	in := strings.Join([]string{
		"web01", "us-west-2", "1", "5", "1",
		"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10", "1", "",
		"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "",
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01",
		"1", "1", "ops@example.com",
		"n",
	}, "\n") + "\n"
	_, err := AskAnswers(context.Background(), Options{Accessible: true, In: strings.NewReader(in), Out: &bytes.Buffer{}})
	require.ErrorIs(t, err, ErrAborted)
}
