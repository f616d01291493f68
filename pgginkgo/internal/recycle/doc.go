// Package recycle returns a used test database to exactly the state of
// the template it was cloned from, in a few milliseconds, so it can serve
// the next spec without a new CREATE DATABASE.
//
// Install runs once, in the template (template.Builder does it). Every
// clone then tracks its own changes, and after a spec:
//
//	rep, err := recycle.Options{}.Reset(ctx, conn)
//	if rep.Outcome != recycle.Recycled {
//		// rep.Cause and rep.Reason (or err) say why: drop it, clone anew
//	}
//
// # What is tracked
//
// Install creates a pgginkgo schema with a snapshot of the template: every
// table's rows (as text), every sequence's value, the set of large
// objects. A statement-level trigger on every table, enabled ALWAYS so
// session_replication_role = replica does not silence it, logs which
// tables a spec wrote and how; the log is transactional and has no unique
// index, so it neither outlives a rollback nor makes two transactions wait
// on each other. Event triggers log any DDL.
//
// # What Reset proves
//
// Reset says Replace, and touches nothing, unless all of these hold: no
// other session is connected; no prepared transaction is open; no DDL was
// logged; the tracking triggers are intact; the database-level state that
// shared catalogs hold (settings, privileges, owner, comment) is as in a
// fresh clone; no catalog row is newer than the template (which also
// catches changes event triggers do not see, such as CLUSTER or a direct
// catalog update); and the template's large objects are untouched.
//
// Then, in one transaction with session_replication_role = replica (no
// foreign key checks, no user triggers), it restores only the tables the
// spec wrote: rows a spec only inserted are deleted in place; otherwise
// the table is emptied (DELETE when small, TRUNCATE when large) and its
// seed rows re-inserted. Sequences that moved are set back, large objects
// the spec created are unlinked.
//
// # What the caller must do
//
// Close or return every connection the spec used before Reset; Reset waits
// Options.SessionWait for their backends to exit, then says Replace. Run
// Reset on a superuser connection without session state of its own. The
// fastest is a reset connection per database that no spec ever gets
// (application_name ResetApplicationName, session_replication_role =
// replica): it keeps its plans, so a typical Reset costs about 3 ms. A
// spec's own connection also works after CleanSession, but each Reset then
// re-plans its checks (about 5 ms more).
package recycle
