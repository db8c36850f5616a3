package awsxtest

import (
	"net/netip"
	"reflect"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// General purpose bucket naming rules.
	docS3BucketNames = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
	// Naming Amazon S3 objects: "The object key name is a sequence of Unicode
	// characters with UTF-8 encoding of up to 1,024 bytes long."
	docS3Keys = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html"
	// Bucket tagging: 50 tags per bucket, key up to 128 Unicode characters,
	// value up to 256, aws: reserved.
	docS3BucketTags = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/CostAllocTagging.html"
)

// bucketNameRE: "Bucket names must be between 3 (min) and 63 (max) characters
// long. Bucket names can consist only of lowercase letters, numbers, periods
// (.), and hyphens (-). Bucket names must begin and end with a letter or
// number."
var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// s3Bucket checks a general purpose bucket name against the naming rules.
func (r *report) s3Bucket(field, name string) {
	bad := func(why string) {
		r.add("s3.bucket-name", field, docS3BucketNames, "InvalidBucketName", "bucket name %q: %s", name, why)
	}
	if !bucketNameRE.MatchString(name) {
		bad("3 to 63 of lowercase letters, numbers, periods and hyphens, beginning and ending with a letter or number")
		return
	}
	// "Bucket names must not contain two adjacent periods."
	if strings.Contains(name, "..") {
		bad("two adjacent periods")
	}
	// "Bucket names must not be formatted as an IP address (for example,
	// 192.168.5.4)."
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		bad("formatted as an IP address")
	}
	// Reserved prefixes and suffixes: xn--, sthree-, amzn-s3-demo-;
	// -s3alias, --ol-s3, .mrap, --x-s3, --table-s3.
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			bad("the prefix " + p + " is reserved")
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			bad("the suffix " + s + " is reserved")
		}
	}
}

// s3Key: at most 1,024 bytes of UTF-8, not empty.
func (r *report) s3Key(field, key string) {
	if key == "" {
		r.add("s3.key", field, docS3Keys, "InvalidArgument", "the object key is empty")
	}
	if len(key) > 1024 {
		r.add("s3.key-length", field, docS3Keys, "KeyTooLongError", "object key is %d bytes of UTF-8, at most 1,024", len(key))
	}
	if !validUTF8(key) {
		r.add("s3.key-utf8", field, docS3Keys, "InvalidArgument", "object key is not valid UTF-8")
	}
}

func init() {
	// Every S3 input the project or its tests use: each has Bucket, and the
	// object calls have Key. The generic check reads those two fields.
	for _, in := range []any{
		&s3.HeadBucketInput{}, &s3.HeadObjectInput{}, &s3.PutObjectInput{}, &s3.GetObjectInput{},
		&s3.PutBucketEncryptionInput{}, &s3.GetBucketEncryptionInput{}, &s3.PutBucketOwnershipControlsInput{},
		&s3.GetBucketOwnershipControlsInput{}, &s3.PutPublicAccessBlockInput{}, &s3.GetPublicAccessBlockInput{},
		&s3.GetBucketTaggingInput{}, &s3.ListObjectsV2Input{}, &s3.DeleteObjectInput{}, &s3.DeleteBucketInput{},
	} {
		rules[reflect.TypeOf(in)] = s3Generic
	}
	register(func(in *s3.CreateBucketInput, r *report) {
		s3Generic(in, r)
		// CreateBucket LocationConstraint: "If you don't specify a Region, the
		// bucket is created in the US East (N. Virginia) Region (us-east-1)
		// by default." Sent to another Region's endpoint without (or with a
		// different) constraint, S3 answers IllegalLocationConstraintException
		// ("The unspecified location constraint is incompatible for the
		// region specific endpoint this request was sent to."; the error text
		// is observed behaviour, the reference page states only the default).
		doc := apiRef(uidS3, "CreateBucket")
		var lc string
		if c := in.CreateBucketConfiguration; c != nil {
			lc = string(c.LocationConstraint)
		}
		region := r.env.Region
		switch {
		case region == "us-east-1" && lc != "" && lc != "us-east-1":
			r.add("s3.location-constraint", "CreateBucketConfiguration.LocationConstraint", doc, "IllegalLocationConstraintException", "LocationConstraint %q does not match the client's Region us-east-1", lc)
		case region != "" && region != "us-east-1" && lc != region:
			r.add("s3.location-constraint", "CreateBucketConfiguration.LocationConstraint", doc, "IllegalLocationConstraintException", "a bucket created in %s needs LocationConstraint %s (got %q)", region, region, lc)
		}
	})
	register(func(in *s3.PutBucketTaggingInput, r *report) {
		s3Generic(in, r)
		var tags []kv
		if in.Tagging != nil {
			for _, t := range in.Tagging.TagSet {
				tags = append(tags, kv{t.Key, t.Value})
			}
		}
		r.tags(tagPolicy{service: "s3", doc: docS3BucketTags, code: "InvalidTag", keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tagging.TagSet", tags)
	})
	register(func(in *s3.PutBucketOwnershipControlsInput, r *report) {
		s3Generic(in, r)
		// OwnershipControls: exactly one rule; ObjectOwnership is
		// BucketOwnerPreferred, ObjectWriter or BucketOwnerEnforced.
		doc := apiRef(uidS3, "PutBucketOwnershipControls")
		if in.OwnershipControls == nil || len(in.OwnershipControls.Rules) != 1 {
			r.add("s3.ownership-controls", "OwnershipControls.Rules", doc, "MalformedXML", "ownership controls take exactly one rule")
			return
		}
		switch in.OwnershipControls.Rules[0].ObjectOwnership {
		case s3types.ObjectOwnershipBucketOwnerPreferred, s3types.ObjectOwnershipObjectWriter, s3types.ObjectOwnershipBucketOwnerEnforced:
		default:
			r.add("s3.ownership-controls", "OwnershipControls.Rules[0].ObjectOwnership", doc, "MalformedXML", "unknown ObjectOwnership %q", in.OwnershipControls.Rules[0].ObjectOwnership)
		}
	})
	register(func(in *s3.PutBucketEncryptionInput, r *report) {
		s3Generic(in, r)
		doc := apiRef(uidS3, "PutBucketEncryption")
		c := in.ServerSideEncryptionConfiguration
		if c == nil || len(c.Rules) == 0 {
			r.add("s3.encryption", "ServerSideEncryptionConfiguration", doc, "MalformedXML", "no encryption rule")
			return
		}
		for _, rule := range c.Rules {
			d := rule.ApplyServerSideEncryptionByDefault
			if d == nil {
				continue
			}
			// KMSMasterKeyID (ServerSideEncryptionByDefault): "General purpose
			// buckets - This parameter is allowed if and only if SSEAlgorithm
			// is set to aws:kms or aws:kms:dsse."
			if str(d.KMSMasterKeyID) != "" && d.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms && d.SSEAlgorithm != s3types.ServerSideEncryptionAwsKmsDsse {
				r.add("s3.encryption", "ApplyServerSideEncryptionByDefault.KMSMasterKeyID", doc, "InvalidArgument", "KMSMasterKeyID given with SSEAlgorithm %q", d.SSEAlgorithm)
			}
		}
	})
}

// s3Generic checks the Bucket and Key fields of any S3 input.
func s3Generic(p any, r *report) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	v = v.Elem()
	if f := v.FieldByName("Bucket"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
		r.s3Bucket("Bucket", f.Elem().String())
	}
	if f := v.FieldByName("Key"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
		r.s3Key("Key", f.Elem().String())
	}
}
