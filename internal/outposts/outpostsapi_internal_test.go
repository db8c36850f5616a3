package outposts

// Unit test of the REST-JSON error reading (no network).

import (
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRestJSONErrorShapes(t *testing.T) {
	for _, c := range []struct {
		header, body, code, msg string
		status                  int
		fault                   smithy.ErrorFault
	}{
		{"NotFoundException:http://internal.amazon.com/coral/com.amazon.outposts/", `{"message":"Outpost op-1 not found"}`, "NotFoundException", "Outpost op-1 not found", 404, smithy.FaultClient},
		{"", `{"__type":"com.amazonaws.outposts#ValidationException","Message":"bad"}`, "ValidationException", "bad", 400, smithy.FaultClient},
		{"", `{"code":"AccessDeniedException"}`, "AccessDeniedException", "", 403, smithy.FaultClient},
		{"", `<html>gateway</html>`, "HTTP502", "<html>gateway</html>", 502, smithy.FaultServer},
	} {
		resp := &http.Response{StatusCode: c.status, Header: http.Header{}}
		if c.header != "" {
			resp.Header.Set("X-Amzn-Errortype", c.header)
		}
		err := restJSONError(resp, []byte(c.body))
		var ae *smithy.GenericAPIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, c.code, ae.Code)
		assert.Contains(t, ae.Message, c.msg)
		assert.Equal(t, c.fault, ae.Fault)
	}
}
