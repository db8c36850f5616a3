//go:build integration

package outposts_test

// Benchmark: the inventory against moto with every AWS call delayed by the
// outpoststest latency PROXY (and the Outposts FAKE delayed the same), to show
// the lists are fetched concurrently. Reported per Load:
//   wall-ms        the Load's wall time
//   sum-ms         the sum of every request's time (what a sequential Load costs)
//   slowest-ms     the slowest single request
//   wall/slowest   the goal is <= 1.5 for independent lists
//   wave-wall-ms   wall time of the independent lists alone (everything but
//                  the Outposts -> instance types -> capacity chain)
//   wave/slowest   wave-wall over the slowest single request of that wave
//   chain-ms       the dependent chain's own time: ListOutposts pages + the
//                  span of the GetOutpostInstanceTypes calls (parallel per
//                  server, pages in sequence) + GetMetricData, a lower bound
//                  for any Load
//   wall/chain     how close the Load comes to that bound
//   calls          requests per Load
// The full Load cannot reach 1.5x: instance types need the Outpost IDs and
// capacity needs the instance types, a chain of three dependent requests.
// No assertion on time: the figures are printed, not judged.
//
//   scripts/with-moto.sh go test -tags integration -run '^$' -bench Inventory -benchtime 5x ./internal/outposts/

import (
	"context"
	"testing"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/outposts"
)

func BenchmarkInventoryBehindLatencyProxy(b *testing.B) {
	// one-page: every list fits one page, so the figure is about concurrency.
	b.Run("one-page", func(b *testing.B) { benchInventory(b, 0, 100) })
	// paged: the Outposts fake pages by 2 and EC2 lists ask for 5, so the
	// page chains show (each page waits for the previous one's token).
	b.Run("paged", func(b *testing.B) { benchInventory(b, 2, 5) })
}

func benchInventory(b *testing.B, fakePage int, pageSize int32) {
	const latency = 100 * time.Millisecond
	w := newWorld(b, true)
	w.fake.PageSize = fakePage
	w.proxy.SetLatency(latency)
	w.fake.SetLatency(latency)
	ctx := context.Background()
	var wall, sum, slowest, wave, waveSlowest, chain time.Duration
	calls := 0
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		inv, err := outposts.Load(ctx, w.sources(), outposts.Options{PageSize: pageSize})
		elapsed := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		wall += elapsed
		var first, last time.Time
		var s, ws time.Duration
		var typesFirst, typesLast time.Time
		for _, c := range inv.Calls {
			sum += c.Duration
			s = max(s, c.Duration)
			switch c.Op {
			case "outposts:ListOutposts", "cloudwatch:GetMetricData":
				chain += c.Duration
			case "outposts:GetOutpostInstanceTypes":
				if typesFirst.IsZero() || c.Start.Before(typesFirst) {
					typesFirst = c.Start
				}
				if end := c.Start.Add(c.Duration); end.After(typesLast) {
					typesLast = end
				}
			}
			switch c.Op {
			case "outposts:GetOutpostInstanceTypes", "cloudwatch:GetMetricData", "outposts:GetOutpost":
				continue
			}
			ws = max(ws, c.Duration)
			if first.IsZero() || c.Start.Before(first) {
				first = c.Start
			}
			if end := c.Start.Add(c.Duration); end.After(last) {
				last = end
			}
		}
		slowest += s
		chain += typesLast.Sub(typesFirst)
		waveSlowest += ws
		wave += last.Sub(first)
		calls += len(inv.Calls)
	}
	b.StopTimer()
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
	b.ReportMetric(ms(wall), "wall-ms")
	b.ReportMetric(ms(sum), "sum-ms")
	b.ReportMetric(ms(slowest), "slowest-ms")
	b.ReportMetric(float64(wall)/float64(slowest), "wall/slowest")
	b.ReportMetric(ms(wave), "wave-wall-ms")
	b.ReportMetric(float64(wave)/float64(waveSlowest), "wave/slowest")
	b.ReportMetric(ms(chain), "chain-ms")
	b.ReportMetric(float64(wall)/float64(chain), "wall/chain")
	b.ReportMetric(float64(calls)/n, "calls")
	b.Logf("latency %s per request; per Load: wall %.0f ms, sum of requests %.0f ms, slowest request %.0f ms, independent wave %.0f ms, dependent chain %.0f ms, %.1f requests",
		latency, ms(wall), ms(sum), ms(slowest), ms(wave), ms(chain), float64(calls)/n)
}
