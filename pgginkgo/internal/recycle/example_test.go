package recycle_test

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

// After a spec, reset its database, or replace it when Reset cannot prove
// the reset complete.
func ExampleReset() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@localhost/spec_1")
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	rep, err := recycle.Reset(ctx, conn)
	switch {
	case err != nil:
		fmt.Println("reset failed, replacing:", err)
	case rep.Outcome == recycle.Replace:
		fmt.Printf("replacing (%s): %s\n", rep.Cause, rep.Reason) // e.g. schema: the spec ran DDL: CREATE TABLE public.x
	default:
		fmt.Println("restored", rep.Tables)
	}
}

// Compare a recycled database with a fresh clone.
func ExampleInspect() {
	ctx := context.Background()
	used, _ := pgx.Connect(ctx, "postgres://postgres@localhost/spec_1")
	fresh, _ := pgx.Connect(ctx, "postgres://postgres@localhost/spec_2")
	a, err := recycle.Inspect(ctx, used)
	if err != nil {
		return
	}
	b, err := recycle.Inspect(ctx, fresh)
	if err != nil {
		return
	}
	if d := a.Diff(b, 20); d != "" {
		fmt.Println("the databases differ:\n" + d)
	}
}

// A pool keeps one dedicated connection per database for its resets, so
// each Reset runs warm; specs get other connections.
func ExampleDedicate() {
	ctx := context.Background()
	resetConn, err := pgx.Connect(ctx, "postgres://postgres@localhost/spec_1")
	if err != nil {
		return
	}
	defer resetConn.Close(ctx)
	if err := recycle.Dedicate(ctx, resetConn); err != nil {
		fmt.Println(err) // e.g. not cloned from a pgginkgo template
		return
	}
	// … a spec runs on its own connections, which are closed when it ends …
	if rep, err := recycle.Reset(ctx, resetConn); err != nil || rep.Outcome != recycle.Recycled {
		fmt.Println("drop spec_1 and clone a new one")
	}
}
