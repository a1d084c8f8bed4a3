package storage

import bolt "go.etcd.io/bbolt"

// bulky reports whether records of kind k are left out when a failed commit
// is retried: samples and results are most of what a commit writes (and may
// trigger a fold), another comes a second later, and a lost one is a gap
// the counters report. The rest is small and someone waits for it.
func (k reqKind) bulky() bool { return k == reqSample || k == reqResult }

// commit stores the held records and then batch in one transaction and
// answers the synchronous requests. When that fails, the records that are
// not bulky are retried at once in a transaction of their own: a full disk
// still takes small commits while the file has free pages. Records left
// unstored are held if their kind allows (see holdable) and dropped and
// counted otherwise; after a failure the writer reloads its state from the
// file, so memory never runs ahead of disk. See the package doc, # Write
// failures.
func (db *DB) commit(batch []*request) error {
	held := db.held.reqs
	if len(batch) == 0 && len(held) == 0 {
		return nil
	}
	all := batch
	if len(held) > 0 {
		all = make([]*request, 0, len(held)+len(batch))
		all = append(append(all, held...), batch...)
	}
	var out commitOutcome
	err := db.tryCommit(all, &out)
	allStored, smallStored := err == nil, false
	bulkErr, smallErr := err, err
	if err != nil {
		var small []*request
		for _, r := range all {
			if !r.kind.bulky() {
				small = append(small, r)
			}
		}
		if len(small) > 0 && len(small) < len(all) {
			smallErr = db.tryCommit(small, &out)
			smallStored = smallErr == nil
		}
	}
	stored := func(r *request) bool { return allStored || (smallStored && !r.kind.bulky()) }

	if allStored || smallStored {
		out.written = len(held)
		db.held.clear()
	}
	// Answers go out after the health is updated, so a writer told its
	// record is held finds it counted in WriteHealth.
	answers := make([]reply, len(batch))
	for i, r := range batch {
		if stored(r) {
			out.samples = out.samples || r.kind == reqSample
			answers[i] = r.answer()
			continue
		}
		cause := smallErr
		if r.kind.bulky() {
			cause = bulkErr
		}
		if r.kind.holdable() && db.held.hold(r) {
			answers[i] = reply{err: heldErr(r.kind, cause)}
			continue
		}
		out.dropped.add(r.kind)
		answers[i] = reply{err: droppedErr(r.kind, cause)}
	}
	for _, r := range batch {
		if r.kind == reqResult {
			db.waitingResults.Add(-1) // stored, held or dropped: through
		}
	}
	out.at = db.now()
	out.held, out.heldB = len(db.held.reqs), db.held.bytes
	db.health.note(db.log, out)
	for i, r := range batch {
		if r.reply != nil {
			// Once: a held record is in later commits' held part, never
			// in their batch, so it is stored later silently.
			r.reply <- answers[i]
		}
	}
	clear(batch) // drop references; the slice is reused
	if allStored {
		return nil
	}
	return err
}

// tryCommit applies reqs in one transaction. It returns nil when they are
// in the file, and notes in out what happened (a failed transaction, the
// error, whether anything was committed).
func (db *DB) tryCommit(reqs []*request, out *commitOutcome) error {
	txid := 0
	err := db.update(func(tx *bolt.Tx) error {
		txid = tx.ID()
		return db.w.apply(tx, reqs)
	})
	if err == nil {
		out.committed = true
		return nil
	}
	out.failedTx++
	out.err = err
	// bbolt rolled back. Reload the writer's memory from what the file
	// holds now, and see whether the commit became visible anyway (only
	// the last fsync failed, after the meta page was written): then its
	// records are in the file and must not be written again.
	landed := false
	if lerr := db.view(func(tx *bolt.Tx) error {
		landed = tx.ID() == txid
		return db.w.load(tx)
	}); lerr != nil {
		db.log.Error("storage: reload series heads", "err", lerr)
	}
	if landed {
		db.log.Warn("storage: commit reported an error after its records were written; they are kept", "records", len(reqs), "err", err)
		out.committed = true
		return nil
	}
	for _, r := range reqs {
		r.id = 0
	}
	return err
}
