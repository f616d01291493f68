package recycle_test

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// After a spec, reset its database, or replace it when Reset cannot prove
// the reset complete.
func ExampleOptions_Reset() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@localhost/spec_1")
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	rep, err := recycle.Options{}.Reset(ctx, conn)
	switch {
	case err != nil:
		fmt.Println("reset failed, replacing:", err)
	case rep.Outcome == recycle.Replace:
		fmt.Printf("replacing (%s): %s\n", rep.Cause, rep.Reason) // e.g. schema: the spec ran DDL: CREATE TABLE public.x
	default:
		fmt.Println("restored", rep.Tables)
	}
}
