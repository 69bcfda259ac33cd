package embedded

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sandscan/sandscan/queue"
)

// Bucket names. ready and leases are indexes ordered by time (8-byte
// big-endian Unix nanoseconds first), so the next job and the next expired
// lease are each one cursor step away.
var (
	bucketJobs    = []byte("jobs")    // id -> record
	bucketReady   = []byte("ready")   // readyAt|seq -> id
	bucketLeases  = []byte("leases")  // deadline|id -> id
	bucketDigests = []byte("digests") // digest -> id, while the job is active
)

// record is a job's stored state: its public status plus the keys of the
// index entries that point at it, so they can be removed exactly.
type record struct {
	Status   queue.Status `json:"status"`
	ReadyKey []byte       `json:"ready_key,omitempty"`
	LeaseKey []byte       `json:"lease_key,omitempty"`
	Token    string       `json:"token,omitempty"` // the current lease's; a stale lease's token differs
}

func timeKey(t time.Time, suffix []byte) []byte {
	k := make([]byte, 8, 8+len(suffix))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, suffix...)
}

func keyTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
}

func seqBytes(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

func getRecord(tx *bolt.Tx, id string) (*record, error) {
	v := tx.Bucket(bucketJobs).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: job %q", queue.ErrNotFound, id)
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("embedded: job %q: %w", id, err)
	}
	return &r, nil
}

func putRecord(tx *bolt.Tx, r *record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Put([]byte(r.Status.Job.ID), v)
}

// makeReady queues r to be delivered from at.
func makeReady(tx *bolt.Tx, r *record, at time.Time) error {
	b := tx.Bucket(bucketReady)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	r.ReadyKey = timeKey(at, seqBytes(seq))
	r.Status.State = queue.StateQueued
	return b.Put(r.ReadyKey, []byte(r.Status.Job.ID))
}

// lease points the lease index at r with a new deadline.
func setLease(tx *bolt.Tx, r *record, deadline time.Time) error {
	b := tx.Bucket(bucketLeases)
	if r.LeaseKey != nil {
		if err := b.Delete(r.LeaseKey); err != nil {
			return err
		}
	}
	r.LeaseKey = timeKey(deadline, []byte(r.Status.Job.ID))
	return b.Put(r.LeaseKey, []byte(r.Status.Job.ID))
}

func dropLease(tx *bolt.Tx, r *record) error {
	if r.LeaseKey == nil {
		return nil
	}
	err := tx.Bucket(bucketLeases).Delete(r.LeaseKey)
	r.LeaseKey, r.Token = nil, ""
	return err
}

// finish moves r to a terminal state and frees its digest for new jobs.
func finish(tx *bolt.Tx, r *record, state queue.State, now time.Time) error {
	if err := dropLease(tx, r); err != nil {
		return err
	}
	r.Status.State = state
	r.Status.Updated = now.UTC()
	d := tx.Bucket(bucketDigests)
	if string(d.Get([]byte(r.Status.Job.Digest))) == r.Status.Job.ID {
		if err := d.Delete([]byte(r.Status.Job.Digest)); err != nil {
			return err
		}
	}
	return putRecord(tx, r)
}
