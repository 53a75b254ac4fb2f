// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 for the local control plane.
//
// The etcd binary's own main package lives in go.etcd.io/etcd/v3, whose go.mod replaces its
// sibling modules with relative paths, so it cannot be built as a dependency; its main only calls
// etcdmain.Main, which is what this wrapper does too.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
