// Package template turns migrations into template databases and clones
// them: the database side of pgginkgo's fresh database per spec.
//
// The smallest use builds one template and clones it:
//
//	b := template.Builder{Connect: connect} // opens a superuser *pgx.Conn to a database
//	built, err := b.Build(ctx, template.Template{
//		Name:    "schema",
//		Sources: []template.Migrator{template.SQLFiles(os.DirFS("../migrations"))},
//	})
//	admin, err := template.NewAdmin(ctx, maintenancePool) // a pool on "postgres"
//	err = admin.Clone(ctx, built.Database, "spec_1")      // 15–19 ms with FILE_COPY
//	…
//	err = admin.Drop(ctx, "spec_1")                        // WITH (FORCE)
//
// # Migrations
//
// A template applies its sources in order, so "schema+seed" can list the
// schema's migrations and then the seed data. Three kinds of source:
//
//   - SQLFiles: the .sql files of a directory, in lexical order, each in
//     its own transaction unless it carries NoTransactionMarker;
//   - Func: a Go function, with a version string standing for its content;
//   - any Migrator, the two-method interface migration tools implement.
//
// # Names, reuse and failures
//
// A template database is named "<prefix>_tpl_<name>_<hash>", the hash
// covering the template's name, every source's fingerprint, the change
// tracking version and the server version. Build reuses a complete template
// of that name and builds it otherwise, under an advisory lock, so
// concurrent builders build once. A complete template is IS_TEMPLATE with
// ALLOW_CONNECTIONS false, so nothing can make a clone fail with "source
// database is being accessed by other users".
//
// A failed build drops what it created. A failing SQL migration is a
// *MigrationError that points at the file, line and column, with the lines
// leading there and a caret; the other errors say what to fix and match
// ErrMigrationsNotFound, ErrInvalidName or ErrUnsupportedServer.
//
// Build also installs change tracking (package recycle), so clones can be
// reset to the template's state instead of being dropped.
package template
