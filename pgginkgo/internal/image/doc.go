// Package image keeps migrated cluster images: cleanly shut-down PostgreSQL
// data directories that already hold a suite's templates and the first ready
// databases of its prefetch pools, so that a warm run copies one into place
// and starts the postmaster instead of applying migrations.
//
// A Store is one directory, owned by the account PostgreSQL runs as:
//
//	<key>/data/            the image's data directory
//	<key>/manifest.json    what the image holds, every file and its size
//	<key>/used             its modification time is the image's last use
//	<key>.build.lock       held by the one process that builds <key>
//	<key>.use.lock         held (shared) by every suite booted from <key>
//	<key>.build-*/         a build in progress, or the leftover of a killed one
//	.trash-*/              an image on its way out
//	gc.lock                serialises eviction
//
// An image only ever appears through the rename of a finished build
// directory that already holds its manifest, so a killed build leaves
// nothing a later run could mistake for an image; the next builder of the
// same key, holding the build lock, sweeps the leftover.
package image
