// Command startmisuse is the mistake Start's option type exists to stop:
// badinput_test.go builds it and expects the compiler to refuse it.
package main

import (
	"context"
	"os"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

func main() {
	// Start builds no template: a cluster without the migrations, had
	// this compiled.
	g, _, err := pgginkgo.Start(context.Background(), pgginkgo.Migrations(os.DirFS("migrations")))
	if err == nil {
		_ = g.Stop()
	}
}
