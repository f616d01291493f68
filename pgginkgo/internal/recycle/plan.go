package recycle

import (
	"fmt"
	"slices"
	"strings"
)

// resetPlan is the work one reset does, chosen per table.
type resetPlan struct {
	replica   bool         // the session is in replica mode already
	truncate  []dirtyTable // emptied together with one TRUNCATE
	deleteAll []dirtyTable // emptied with DELETE
	deleteNew []dirtyTable // only INSERTs happened: delete just the new rows
	reseed    []dirtyTable // emptied above, then seed rows restored
	touched   []uint32     // every logged table, including partitioned parents
	sequences int64
	los       int64
}

func (p resetPlan) empty() bool {
	return len(p.touched) == 0 && p.sequences == 0 && p.los == 0
}

// plan chooses the cheapest sufficient operation per changed table:
//   - only INSERTs into a seeded table: the seed rows are intact, so delete
//     the rows newer than the table's horizon and keep the rest in place;
//   - otherwise empty the table (TRUNCATE when large, DELETE when small)
//     and re-insert its seed rows.
func plan(st status, o Options) (resetPlan, Report) {
	p := resetPlan{replica: st.replica, sequences: st.sequences, los: st.largeObjects}
	rep := Report{Outcome: Recycled, Sequences: int(st.sequences), LargeObjects: int(st.largeObjects)}
	var reseedRows int64
	var big []dirtyTable
	for _, d := range st.dirty {
		p.touched = append(p.touched, d.oid)
		switch {
		case !d.tracked:
			return p, Report{Cause: CauseMachinery, Reason: fmt.Sprintf("table oid %d changed but pgginkgo does not track it", d.oid)}
		case !d.plain:
			return p, Report{Cause: CauseTriggers, Reason: fmt.Sprintf("%s changed and has a trigger or rule enabled ALWAYS or REPLICA, which would fire during the reset", d.name)}
		case d.kind != "r":
			continue // partitioned: its partitions are in the list too
		}
		rep.Tables = append(rep.Tables, d.name)
		switch {
		case d.insertOnly && d.seedRows > 0:
			p.deleteNew = append(p.deleteNew, d)
			continue
		case d.bytes > o.TruncateAbove:
			big = append(big, d)
		default:
			p.deleteAll = append(p.deleteAll, d)
		}
		if d.seedRows > 0 {
			p.reseed = append(p.reseed, d)
			reseedRows += d.seedRows
		}
	}
	if reseedRows > o.MaxReseedRows {
		return p, Report{Cause: CauseTooLarge, Reason: fmt.Sprintf("the reset would re-insert %d seed rows, more than MaxReseedRows (%d); a fresh clone is cheaper", reseedRows, o.MaxReseedRows)}
	}
	p.truncate, p.deleteAll = splitTruncatable(big, p.deleteAll)
	return p, rep
}

// splitTruncatable keeps in the TRUNCATE set only tables whose every
// referencing table is truncated with them: TRUNCATE refuses otherwise, even
// in replica mode. The others fall back to DELETE, which replica mode lets
// through without foreign key checks.
func splitTruncatable(big, deletes []dirtyTable) (truncate, del []dirtyTable) {
	in := map[uint32]bool{}
	for _, d := range big {
		in[d.oid] = true
	}
	for changed := true; changed; {
		changed = false
		for _, d := range big {
			if !in[d.oid] {
				continue
			}
			for _, r := range d.referencedBy {
				if r != d.oid && !in[r] {
					in[d.oid], changed = false, true
					break
				}
			}
		}
	}
	for _, d := range big {
		if in[d.oid] {
			truncate = append(truncate, d)
		} else {
			deletes = append(deletes, d)
		}
	}
	return truncate, deletes
}

// script renders the plan as one transaction, sent as one simple-protocol
// query: a single round trip. session_replication_role = replica skips
// foreign key checks and the user's triggers, so tables can be restored in
// any order; our ALWAYS tracking triggers still fire and finish() clears
// what they log. A reset connection is in replica mode already, and
// setting it again would flush the session's plans.
func (p resetPlan) script() string {
	var b strings.Builder
	b.WriteString("BEGIN;\n" + textSettings)
	if !p.replica {
		b.WriteString("SET LOCAL session_replication_role = replica;\n")
	}
	if len(p.truncate) > 0 {
		names := make([]string, len(p.truncate))
		for i, d := range p.truncate {
			names[i] = d.name
		}
		fmt.Fprintf(&b, "TRUNCATE ONLY %s;\n", strings.Join(names, ", "))
	}
	for _, d := range p.deleteAll {
		fmt.Fprintf(&b, "DELETE FROM ONLY %s;\n", d.name)
	}
	// Rows written after the table's horizon (the xid that last restored
	// it, or the template's) are the spec's; age() counts back from now.
	for _, d := range p.deleteNew {
		fmt.Fprintf(&b, `DELETE FROM ONLY %s WHERE pg_catalog.age(xmin) < (SELECT pg_catalog.age(COALESCE(
	(SELECT h.horizon FROM pgginkgo.horizons h WHERE h.relid = %d), (SELECT m.horizon FROM pgginkgo.meta m))));
`, d.name, d.oid)
	}
	for _, d := range p.reseed {
		b.WriteString(d.reseed + ";\n")
	}
	if len(p.reseed) > 0 {
		oids := make([]uint32, len(p.reseed))
		for i, d := range p.reseed {
			oids[i] = d.oid
		}
		fmt.Fprintf(&b, `INSERT INTO pgginkgo.horizons (relid, horizon)
	SELECT r, pg_catalog.pg_current_xact_id()::xid FROM pg_catalog.unnest('%s'::pg_catalog.oid[]) r
	ON CONFLICT (relid) DO UPDATE SET horizon = EXCLUDED.horizon;
`, oidArray(oids))
	}
	if p.sequences > 0 {
		b.WriteString("SELECT pg_catalog.setval(d.seq, d.last_value, d.is_called) FROM pgginkgo.sequence_drift() d;\n")
	}
	if p.los > 0 {
		b.WriteString(`SELECT pg_catalog.lo_unlink(m.oid) FROM pg_catalog.pg_largeobject_metadata m
	WHERE NOT EXISTS (SELECT 1 FROM pgginkgo.large_objects l WHERE l.loid = m.oid);
`)
	}
	fmt.Fprintf(&b, "SELECT pgginkgo.finish('%s');\nCOMMIT;", oidArray(p.touched))
	return b.String()
}

func oidArray(oids []uint32) string {
	s := make([]string, len(oids))
	for i, o := range slices.Sorted(slices.Values(oids)) {
		s[i] = fmt.Sprint(o)
	}
	return "{" + strings.Join(s, ",") + "}"
}
