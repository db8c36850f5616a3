package stack
import ("os";"testing")
func TestDump(t *testing.T){
 r,err:=Render(Config{Workload:"web01",Region:"us-west-2",NotificationEmail:"ops@example.com",InstanceProfileRole:"web01-role",PrimaryOutpostID:"op-0123456789abcdef0"})
 if err!=nil{t.Fatal(err)}
 os.WriteFile("/tmp/ohastack/t.yaml",r.Template,0o644)
}
