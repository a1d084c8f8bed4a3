package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpen_LockedInProcess(t *testing.T) {
	db, path := openTest(t, testOptions(nil))
	_ = db
	opts := testOptions(nil)
	opts.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := Open(path, opts)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "another dashd") {
		t.Errorf("error %q does not name the file and the lock holder", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("second Open took %v; it must fail fast", d)
	}
}

func TestOpen_LockedByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dashd.db")
	child := startChild(t, "hold", path)
	opts := testOptions(nil)
	opts.Timeout = 200 * time.Millisecond
	_, err := Open(path, opts)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open while another process holds the file = %v, want ErrLocked naming %s", err, path)
	}
	child.kill(t)
	db, err := Open(path, opts) // the lock dies with the process
	if err != nil {
		t.Fatalf("Open after the holder died: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawBolt edits a closed database file with bbolt directly.
func rawBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_Refused(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // makes the file at path
		want    error
		text    string
	}{
		{
			name: "newer schema",
			prepare: func(t *testing.T, path string) {
				db, err := Open(path, testOptions(nil))
				if err != nil {
					t.Fatal(err)
				}
				db.Close()
				rawBolt(t, path, func(tx *bolt.Tx) error {
					return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
				})
			},
			want: ErrNewerSchema, text: fmt.Sprintf("schema version %d", SchemaVersion+1),
		},
		{
			name: "garbage file",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 2000), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: ErrCorrupt, text: "left untouched",
		},
		{
			name: "both meta pages destroyed",
			prepare: func(t *testing.T, path string) {
				db, err := Open(path, testOptions(nil))
				if err != nil {
					t.Fatal(err)
				}
				db.Close()
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				ps := os.Getpagesize()
				for _, off := range []int64{0, int64(ps)} {
					if _, err := f.WriteAt(bytes.Repeat([]byte{0xAB}, 512), off+16); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: ErrCorrupt, text: "corrupt",
		},
		{
			name: "bbolt file of another program",
			prepare: func(t *testing.T, path string) {
				rawBolt(t, path, func(tx *bolt.Tx) error {
					b, err := tx.CreateBucket([]byte("users"))
					if err != nil {
						return err
					}
					return b.Put([]byte("ann"), []byte("admin"))
				})
			},
			want: ErrNotDashd, text: "no dashd schema record",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dashd.db")
			tt.prepare(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, testOptions(nil))
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Open = %q; want %v naming the file and saying %q", err, tt.want, tt.text)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("the refused file was modified")
			}
		})
	}
}

func TestOpen_Unwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(file, "dashd.db") // parent is a regular file
	_, err := Open(path, testOptions(nil))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "create directory") {
		t.Errorf("Open under a file = %v; want an error naming %s", err, path)
	}
}

func TestOpen_CreatesParentAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "dashd.db")
	db, err := Open(path, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	rawBolt(t, path, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kSchema); binary.BigEndian.Uint32(v) != SchemaVersion {
			t.Errorf("schema record = %x", v)
		}
		return nil
	})
}

// readLine waits for one line from a child, bounded by a timeout.
func readLine(t *testing.T, r *bufio.Reader, within time.Duration) string {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		s, _ := r.ReadString('\n')
		ch <- strings.TrimSpace(s)
	}()
	select {
	case s := <-ch:
		return s
	case <-time.After(within):
		t.Fatalf("no line from child within %v", within)
		return ""
	}
}
