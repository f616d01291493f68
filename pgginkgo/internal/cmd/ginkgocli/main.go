// Command ginkgocli prints the path of the ginkgo CLI that pgginkgo's tests
// drive, building it first when needed; see package ginkgocli. Tests that
// cannot import pgginkgo/internal run it from inside the module:
//
//	go run github.com/pgginkgo/pgginkgo/pgginkgo/internal/cmd/ginkgocli
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/ginkgocli"
)

func main() {
	path, err := ginkgocli.Path(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
