// Package ternmigrator builds pgginkgo templates with tern
// (github.com/jackc/tern/v2), so that a suite's databases hold exactly
// what the application's tern migrations produce, tern's version table
// included.
//
// The smallest use is one line next to RunSpecs:
//
//	var _ = pgginkgo.Suite(pgginkgo.DefineTemplate("default", ternmigrator.New(os.DirFS("migrations"))))
//
// The migrations are tern's own files: 001_create_users.sql,
// 002_add_orders.sql and so on at the root of the directory, each with an
// optional "---- create above / drop below ----" line before its down
// part (which a template never runs) and "---- tern: disable-tx ----" for
// the ones that must run outside a transaction, such as CREATE INDEX
// CONCURRENTLY. They are text/template files, as tern reads them: the
// .sql files in subdirectories are shared templates that migrations pull
// in with {{ template "shared/columns.sql" . }}, and Data supplies the
// values they read:
//
//	ternmigrator.New(os.DirFS("migrations"),
//		ternmigrator.Data(map[string]any{"app_role": "shop"}),
//		ternmigrator.VersionTable("public.schema_version"))
//
// Give New the options the application gives tern, since an application
// that runs tern at start against a database cloned from the template
// then finds its version table at the last version and nothing to apply.
//
// pgginkgo.SQLDir reads plain tern directories too, without templates;
// migrations that use {{ }} need this package.
package ternmigrator
