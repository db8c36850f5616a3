package record

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// How a value is stored in Parameter Store.
//
// The PutParameter API reference
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
// members Value and Tier) says: "Standard parameters have a value limit of
// 4 KB. Advanced parameters have a value limit of 8 KB", advanced parameters
// are charged, and "you can't revert an advanced parameter to a standard
// parameter". So:
//
//  1. plain JSON when it fits in StandardLimit bytes: readable with
//     `aws ssm get-parameter`, and free;
//  2. otherwise gzip + base64 behind the prefix GzipPrefix, still Standard
//     (JSON of resource lists and YAML answers compress several-fold);
//  3. only when even that exceeds 4 KB does the value need the advanced tier
//     (up to AdvancedLimit);
//  4. beyond 8 KB the write is refused with the size, before any call.
//
// Every write names Tier Intelligent-Tiering, which the same page describes
// as "Parameter Store evaluates each request to determine if the parameter is
// standard or advanced. If the request doesn't include any options that
// require an advanced parameter, the parameter is created in the
// standard-parameter tier": so a parameter becomes advanced (and charged) only
// in case 3; an account whose default tier is Advanced still stores small
// values as Standard; and a later smaller write to a parameter that did
// become advanced is not an (impossible) explicit downgrade to Standard.
const (
	StandardLimit = 4096
	AdvancedLimit = 8192
	GzipPrefix    = "oha-gzip-b64:"
	// maxDecoded bounds decompression (a hostile or corrupt value cannot
	// make a reader allocate without limit).
	maxDecoded = 1 << 20
)

// ErrTooLarge is returned when a value does not fit even compressed in 8 KB.
var ErrTooLarge = errors.New("value too large for Parameter Store")

// Tier is the tier every write names (see above).
const Tier = ssmtypes.ParameterTierIntelligentTiering

// Encode returns the stored form of v and whether it needs the advanced tier.
func Encode(v any) (value string, advanced bool, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, err
	}
	if len(b) <= StandardLimit {
		return string(b), false, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return "", false, err
	}
	if err := zw.Close(); err != nil {
		return "", false, err
	}
	s := GzipPrefix + base64.StdEncoding.EncodeToString(buf.Bytes())
	switch {
	case len(s) <= StandardLimit:
		return s, false, nil
	case len(s) <= AdvancedLimit:
		return s, true, nil
	}
	return "", false, fmt.Errorf("%w: %d bytes of JSON, %d compressed; at most %d", ErrTooLarge, len(b), len(s), AdvancedLimit)
}

// Decode reads a stored value into v.
func Decode(s string, v any) error {
	b := []byte(s)
	if rest, ok := strings.CutPrefix(s, GzipPrefix); ok {
		z, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		b, err = io.ReadAll(io.LimitReader(zr, maxDecoded+1))
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if len(b) > maxDecoded {
			return fmt.Errorf("decode: more than %d bytes uncompressed", maxDecoded)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

func marshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
