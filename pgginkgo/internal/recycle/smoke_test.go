package recycle_test

import (
	"context"
	"testing"

	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/recycle"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	tpl := build(t, "shop+seed", shopSources()...)
	t.Logf("%+v", tpl)
	a, b := clone(t, tpl), clone(t, tpl)
	ca, cb := connect(t, a), connect(t, b)
	mustExec(t, ca, `INSERT INTO users (email, name) VALUES ('x@y.z', 'X')`)
	rep, err := recycle.Reset(ctx, ca)
	t.Logf("%+v %v", rep, err)
	sa, sb := inspect(t, ca), inspect(t, cb)
	if d := sa.Diff(sb, 40); d != "" {
		t.Fatalf("diff:\n%s", d)
	}
	t.Log(len(sa.Lines()))
}
