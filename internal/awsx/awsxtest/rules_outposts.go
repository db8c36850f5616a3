package awsxtest

// Contract rules for the three AWS Outposts API calls of the setup inventory
// (internal/outposts/outpostsapi.go). Constraints as the API reference pages
// print them under each request parameter ("Length Constraints", "Pattern",
// "Valid Range", "Required"), which are the service model's (botocore
// outposts/2019-12-03/service-2.json, uid outposts-2019-12-03):
//   ListOutposts             https://docs.aws.amazon.com/outposts/latest/APIReference/API_ListOutposts.html
//   GetOutpost               https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpost.html
//   GetOutpostInstanceTypes  https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpostInstanceTypes.html
// The Outposts API answers a request that breaks them with
// ValidationException (HTTP 400, "Common Errors" of each page).

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/outposts"
)

const (
	outpostsInvalid  = "ValidationException"
	docOutpostsList  = "https://docs.aws.amazon.com/outposts/latest/APIReference/API_ListOutposts.html"
	docOutpostsGet   = "https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpost.html"
	docOutpostsTypes = "https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpostInstanceTypes.html"
)

var (
	// OutpostId: "The ID or ARN of the Outpost." Length 1 to 180, Pattern
	// ^(arn:aws([a-z-]+)?:outposts:[a-z\d-]+:\d{12}:outpost/)?op-[a-f0-9]{17}$
	outpostIDOrARNRE = regexp.MustCompile(`^(arn:aws([a-z-]+)?:outposts:[a-z\d-]+:\d{12}:outpost/)?op-[a-f0-9]{17}$`)
	// NextToken: Length 1 to 2048, Pattern ^(\d+)##(\S+)$
	outpostsTokenRE = regexp.MustCompile(`^(\d+)##(\S+)$`)
	// LifeCycleStatusFilter members: Length 1 to 20, Pattern ^[ A-Za-z]+$
	outpostsLifeCycleRE = regexp.MustCompile(`^[ A-Za-z]+$`)
	// AvailabilityZoneFilter members: Length 1 to 1000,
	// Pattern ^([a-zA-Z]+-){1,3}([a-zA-Z]+)?(\d+[a-zA-Z]?)?$
	outpostsAZRE = regexp.MustCompile(`^([a-zA-Z]+-){1,3}([a-zA-Z]+)?(\d+[a-zA-Z]?)?$`)
	// AvailabilityZoneIdFilter members: Length 1 to 255,
	// Pattern ^[a-zA-Z]+\d-[a-zA-Z]+\d$
	outpostsAZIDRE = regexp.MustCompile(`^[a-zA-Z]+\d-[a-zA-Z]+\d$`)
)

// outpostID: "Required: Yes", length and pattern as above.
func (r *report) outpostID(doc string, id *string) {
	if id == nil {
		r.add("outposts.outpost-id", "OutpostId", doc, outpostsInvalid, "OutpostId is required")
		return
	}
	r.lengthIn("outposts.outpost-id", "OutpostId", doc, outpostsInvalid, *id, 1, 180)
	if !outpostIDOrARNRE.MatchString(*id) {
		r.add("outposts.outpost-id", "OutpostId", doc, outpostsInvalid, "%q is neither an Outpost ID (op- and 17 hex digits) nor an Outpost ARN", *id)
	}
}

// outpostsPaging: MaxResults "Valid Range: Minimum value of 1. Maximum value
// of 1000."; NextToken length 1 to 2048 and its pattern.
func (r *report) outpostsPaging(doc string, max *int32, token *string) {
	if max != nil && (*max < 1 || *max > 1000) {
		r.add("outposts.max-results", "MaxResults", doc, outpostsInvalid, "MaxResults %d, allowed 1 to 1000", *max)
	}
	if token != nil {
		r.lengthIn("outposts.next-token", "NextToken", doc, outpostsInvalid, *token, 1, 2048)
		if !outpostsTokenRE.MatchString(*token) {
			r.add("outposts.next-token", "NextToken", doc, outpostsInvalid, "NextToken %q does not match ^(\\d+)##(\\S+)$ (pass back the token of the previous page)", *token)
		}
	}
}

// outpostsFilter: each filter list has 1 to 5 members ("Array Members:
// Minimum number of 1 item. Maximum number of 5 items."), each within its
// length and pattern.
func (r *report) outpostsFilter(field string, vals []string, maxLen int, re *regexp.Regexp) {
	if vals == nil {
		return
	}
	if n := len(vals); n < 1 || n > 5 {
		r.add("outposts.filter", field, docOutpostsList, outpostsInvalid, "%d values, allowed 1 to 5", n)
	}
	for i, v := range vals {
		f := fmt.Sprintf("%s[%d]", field, i)
		r.lengthIn("outposts.filter", f, docOutpostsList, outpostsInvalid, v, 1, maxLen)
		if !re.MatchString(v) {
			r.add("outposts.filter", f, docOutpostsList, outpostsInvalid, "%q does not match %s", v, re)
		}
	}
}

func init() {
	register(func(in *outposts.ListOutpostsInput, r *report) {
		r.outpostsPaging(docOutpostsList, in.MaxResults, in.NextToken)
		r.outpostsFilter("LifeCycleStatusFilter", in.LifeCycleStatusFilter, 20, outpostsLifeCycleRE)
		r.outpostsFilter("AvailabilityZoneFilter", in.AvailabilityZoneFilter, 1000, outpostsAZRE)
		r.outpostsFilter("AvailabilityZoneIdFilter", in.AvailabilityZoneIdFilter, 255, outpostsAZIDRE)
	})
	register(func(in *outposts.GetOutpostInput, r *report) {
		r.outpostID(docOutpostsGet, in.OutpostId)
	})
	register(func(in *outposts.GetOutpostInstanceTypesInput, r *report) {
		r.outpostID(docOutpostsTypes, in.OutpostId)
		r.outpostsPaging(docOutpostsTypes, in.MaxResults, in.NextToken)
	})
}
