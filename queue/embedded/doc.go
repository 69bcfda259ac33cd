// Package embedded is the default queue backend: one bbolt file, no server.
// A lease is a deadline stored beside the job, so a job whose worker died,
// even with the whole process, goes back to the ready list when the next
// Dequeue (in this process or the next one to open the file) finds the
// deadline passed. bbolt locks the file: one process uses it at a time.
package embedded
