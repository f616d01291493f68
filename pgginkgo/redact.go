package pgginkgo

import (
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onsi/gomega/format"
)

// Gomega prints the whole value of a failed assertion, and a
// *pgconn.ConnectError carries the connection's config, password included:
// pgx reads it from the cluster's passfile. A spec that asserts on a failed
// connection would put the password in its report. Suite registers a
// formatter that prints such values by their message instead.
var registerRedaction = sync.OnceFunc(func() {
	format.RegisterCustomFormatter(func(v any) (string, bool) {
		switch v := v.(type) {
		case *pgconn.ConnectError:
			return "*pgconn.ConnectError: " + v.Error(), true
		case *pgconn.Config:
			return "*pgconn.Config for " + v.User + "@" + v.Host, true
		}
		return "", false
	})
})
