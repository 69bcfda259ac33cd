// Package service is the protocol side of Sandscan's sinkhole, the fake
// internet a sandbox talks to: it answers every DNS question (each name gets
// its own address from a pool, so a later connection's destination tells
// which name it was for), accepts every TCP connection and recognises what
// the client speaks from its first bytes (HTTP and proxy requests, TLS
// ClientHellos, stratum mining logins, SSH, IRC, SMTP, FTP, reverse shells),
// answers just enough to make the workload take its next step (a payload
// for a dropper, a job for a miner, a command for a shell), and records it
// all as trace.Network. It is plain Go over net.Conn and datagrams: the
// sinkhole's network plumbing hands it connections with their original
// destination. Everything a sandbox sends is untrusted, so every read,
// record and handler is bounded.
package service
