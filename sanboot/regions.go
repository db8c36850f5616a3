package sanboot

import (
	"sort"
	"strings"
)

// regionPartitions maps every AWS Region code to its partition. Sources: the
// AWS Regions list, https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
// (and its billing-codes page, .../regions/aws-region-billing-codes.html), cross-checked
// with the partitions.json of aws-sdk-go-v2 v1.48.0 (internal/endpoints/awsrulesfn),
// the SDK release this module pins. A Region AWS opens later is added here; until
// then the tool refuses it rather than accept a typo such as xx-east-1.
var regionPartitions = map[string]string{
	// aws
	"af-south-1": "aws", "ap-east-1": "aws", "ap-east-2": "aws",
	"ap-northeast-1": "aws", "ap-northeast-2": "aws", "ap-northeast-3": "aws",
	"ap-south-1": "aws", "ap-south-2": "aws",
	"ap-southeast-1": "aws", "ap-southeast-2": "aws", "ap-southeast-3": "aws", "ap-southeast-4": "aws",
	"ap-southeast-5": "aws", "ap-southeast-6": "aws", "ap-southeast-7": "aws",
	"ca-central-1": "aws", "ca-west-1": "aws",
	"eu-central-1": "aws", "eu-central-2": "aws", "eu-north-1": "aws", "eu-south-1": "aws", "eu-south-2": "aws",
	"eu-west-1": "aws", "eu-west-2": "aws", "eu-west-3": "aws",
	"il-central-1": "aws", "me-central-1": "aws", "me-south-1": "aws", "me-west-1": "aws",
	"mx-central-1": "aws", "sa-east-1": "aws", "sa-west-1": "aws",
	"us-east-1": "aws", "us-east-2": "aws", "us-west-1": "aws", "us-west-2": "aws",
	// aws-cn
	"cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
	// aws-us-gov
	"us-gov-east-1": "aws-us-gov", "us-gov-west-1": "aws-us-gov",
	// aws-iso, aws-iso-b, aws-iso-e, aws-iso-f
	"us-iso-east-1": "aws-iso", "us-iso-west-1": "aws-iso",
	"us-isob-east-1": "aws-iso-b", "us-isob-west-1": "aws-iso-b",
	"eu-isoe-west-1": "aws-iso-e",
	"us-isof-east-1": "aws-iso-f", "us-isof-south-1": "aws-iso-f",
	// aws-eusc (AWS European Sovereign Cloud)
	"eusc-de-east-1": "aws-eusc",
}

// RegionPartition returns the partition of an AWS Region code (aws, aws-cn,
// aws-us-gov, ...) and whether the code is a known Region.
func RegionPartition(region string) (string, bool) {
	p, ok := regionPartitions[region]
	return p, ok
}

// IsPartition reports whether p is an AWS partition name as it appears in ARNs.
func IsPartition(p string) bool {
	for _, v := range regionPartitions {
		if v == p {
			return true
		}
	}
	return false
}

// Regions lists every known Region code, sorted.
func Regions() []string {
	out := make([]string, 0, len(regionPartitions))
	for r := range regionPartitions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// SuggestRegion returns the known Region closest to a mistyped one (at most two
// edits away), or "".
func SuggestRegion(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	best, bestD := "", 3
	for _, r := range Regions() {
		if d := EditDistance(s, r); d < bestD {
			best, bestD = r, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance between a and b, in bytes; it
// gives up early (returning a value above 8) for long or very different inputs.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
