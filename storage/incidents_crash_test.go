package storage

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// Child process for TestCrash_IncidentsSIGKILL.
const envIncidentChildPath = "DASHD_STORAGE_INCIDENT_CHILD_PATH"

// TestHelperIncidentChild is not a test: it is the body of the child
// processes of TestCrash_IncidentsSIGKILL. It opens incidents, adds
// entries, and resolves and reopens them as fast as it can, and prints
// every entry that was acknowledged ("ack <incident> <seq>").
func TestHelperIncidentChild(t *testing.T) {
	path := os.Getenv(envIncidentChildPath)
	if path == "" {
		t.Skip("child process body; runs only when re-executed by TestCrash_IncidentsSIGKILL")
	}
	opts := testOptions(nil)
	opts.Timeout = 30 * time.Second
	db, err := Open(path, opts)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	go func() { _ = db.Run(ctx) }()
	fmt.Println("ready")
	fail := func(what string, err error) {
		fmt.Println(what, "failed:", err)
		os.Exit(1)
	}
	var inc model.Incident
	for i := 0; ; i++ {
		now := time.Now()
		switch {
		case i%10 == 0:
			var es []model.IncidentEntry
			inc, es, err = db.CreateIncident(ctx, testIncident(fmt.Sprint("i", i), now, "web"), entry(model.EntryUpdate, now, "opened"))
			if err != nil {
				fail("create", err)
			}
			fmt.Printf("ack %d %d\n", inc.ID, es[0].Seq)
		case i%7 == 0:
			// Resolve or reopen: the record, the open index and the entry
			// change together.
			if inc.IsOpen() {
				inc.State, inc.Resolved = model.IncidentResolved, now
			} else {
				inc.State, inc.Resolved = model.IncidentOpen, time.Time{}
			}
			var es []model.IncidentEntry
			inc, es, err = db.UpdateIncident(ctx, inc, entry(model.EntryResolve, now, string(inc.State)))
			if err != nil {
				fail("update", err)
			}
			fmt.Printf("ack %d %d\n", inc.ID, es[0].Seq)
		default:
			es, err := db.AddIncidentEntries(ctx, inc.ID, entry(model.EntryChat, now, strings.Repeat("x", i%200)),
				entry(model.EntryNote, now, "n"))
			if err != nil {
				fail("add", err)
			}
			fmt.Printf("ack %d %d\n", inc.ID, es[1].Seq)
		}
	}
}

// startIncidentChild re-executes the test binary as TestHelperIncidentChild
// on path and waits for its "ready" line.
func startIncidentChild(t *testing.T, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIncidentChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envIncidentChildPath+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { c.kill(t) })
	if c.ready = readLine(t, c.out, 60*time.Second); c.ready != "ready" {
		t.Fatalf("child said %q, want ready", c.ready)
	}
	return c
}

// TestCrash_IncidentsSIGKILL kills a process writing incidents at random
// moments. After each kill the file is consistent, every acknowledged
// entry is there, every incident's entries are numbered 1..n without a
// gap and its record counts n (record and entries are one transaction),
// and the open index lists exactly the open incidents.
func TestCrash_IncidentsSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary 12 times")
	}
	path := t.TempDir() + "/dashd.db"
	rng := rand.New(rand.NewPCG(5, 6))
	acked := map[uint64]uint64{} // incident -> highest acknowledged seq
	for round := range 12 {
		c := startIncidentChild(t, path)
		want := 1 + rng.IntN(40)
		for n := 0; n < want; n++ {
			line := readLine(t, c.out, 60*time.Second)
			var id, seq uint64
			if _, err := fmt.Sscanf(line, "ack %d %d", &id, &seq); err != nil {
				t.Fatalf("round %d: child said %q", round, line)
			}
			acked[id] = max(acked[id], seq)
		}
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
		c.kill(t)

		checkFile(t, path)
		db, err := Open(path, testOptions(nil))
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		verifyIncidentsAfterCrash(t, db, round, acked)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("12 SIGKILLs, %d incidents acknowledged", len(acked))
}

func verifyIncidentsAfterCrash(t *testing.T, db *DB, round int, acked map[uint64]uint64) {
	t.Helper()
	incs, err := db.Incidents(0, maxIncidentsRead)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint64]model.Incident{}
	for _, inc := range incs {
		stored[inc.ID] = inc
		es, err := db.IncidentEntries(inc.ID, 0, maxEntriesRead)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range es {
			if e.Seq != uint64(i+1) {
				t.Errorf("round %d: incident %d entry %d has seq %d", round, inc.ID, i, e.Seq)
				break
			}
		}
		if inc.Entries != uint64(len(es)) {
			t.Errorf("round %d: incident %d counts %d entries, %d stored", round, inc.ID, inc.Entries, len(es))
		}
		if seq := acked[inc.ID]; uint64(len(es)) < seq {
			t.Errorf("round %d: incident %d has %d entries; entry %d was acknowledged", round, inc.ID, len(es), seq)
		}
	}
	for id := range acked {
		if _, ok := stored[id]; !ok {
			t.Errorf("round %d: acknowledged incident %d missing", round, id)
		}
	}
	indexed := map[uint64]bool{}
	err = db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bIncidentsOpen).ForEach(func(k, _ []byte) error {
			indexed[beUint64(k)] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, inc := range stored {
		if inc.IsOpen() != indexed[id] {
			t.Errorf("round %d: incident %d is %s but indexed as open: %v", round, id, inc.State, indexed[id])
		}
	}
	for id := range indexed {
		if _, ok := stored[id]; !ok {
			t.Errorf("round %d: the open index lists %d, which is not stored", round, id)
		}
	}
}
