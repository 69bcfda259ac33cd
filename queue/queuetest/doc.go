// Package queuetest is the conformance suite every queue backend passes:
// enqueue, dequeue and ack; dedupe by digest; status transitions; retry,
// dead and failed jobs; redelivery after a lease expires; leases kept
// alive by InProgress; restarts; concurrent consumers; and a worker
// process killed with SIGKILL in the middle of a job.
package queuetest
