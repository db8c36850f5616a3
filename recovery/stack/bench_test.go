package stack

import "testing"

func BenchmarkRender(b *testing.B) {
	c := Config{Workload: "web01", Region: "us-west-2", NotificationEmail: "ops@example.com",
		InstanceProfileRole: "oha-web01", PrimaryOutpostID: "op-0123456789abcdef0"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(c); err != nil {
			b.Fatal(err)
		}
	}
}
