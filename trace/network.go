package trace

import "time"

// Network is what the sandbox's network saw: its DNS questions and every
// connection and datagram, as the sinkhole answered them.
type Network struct {
	Mode string     `json:"mode"`
	DNS  []DNSQuery `json:"dns,omitempty"`
	// Conns are TCP connections and UDP flows other than DNS, in order.
	Conns []Conn `json:"connections,omitempty"`
	// PCAP names the Artifact holding a capture of the traffic, if kept.
	PCAP string `json:"pcap,omitempty"`
}

// DNSQuery is one question the sandbox asked.
type DNSQuery struct {
	Time time.Time `json:"time"`
	Name string    `json:"name"`
	Type string    `json:"type"`
	// RCode is the answer's code: NOERROR or NXDOMAIN.
	RCode   string   `json:"rcode"`
	Answers []string `json:"answers,omitempty"`
}

// Conn is one TCP connection or UDP flow to the sinkhole.
type Conn struct {
	Time  time.Time `json:"time"`
	Proto string    `json:"proto"` // "tcp" or "udp"
	// Dst is where the sandbox meant to go; Src the sandbox's end.
	DstIP   string `json:"dst_ip"`
	DstPort uint16 `json:"dst_port"`
	SrcPort uint16 `json:"src_port,omitempty"`
	// Host is the DNS name the sandbox resolved to reach DstIP, if any.
	Host string `json:"host,omitempty"`
	// App is the protocol recognised in the first bytes: http, tls,
	// stratum, ssh, irc, shell, or unknown.
	App       string `json:"app,omitempty"`
	BytesIn   int64  `json:"bytes_in"`
	BytesOut  int64  `json:"bytes_out"`
	FirstData []byte `json:"first_data,omitempty"`

	HTTP    *HTTPInfo    `json:"http,omitempty"`
	TLS     *TLSInfo     `json:"tls,omitempty"`
	Stratum *StratumInfo `json:"stratum,omitempty"`
	Banner  string       `json:"banner,omitempty"`
	Shell   *ShellInfo   `json:"shell,omitempty"`

	// PID is the process that made the connection, from the trace.
	PID  int32  `json:"pid,omitempty"`
	Comm string `json:"comm,omitempty"`
}

// HTTPInfo is a recognised HTTP request.
type HTTPInfo struct {
	Method     string `json:"method"`
	Host       string `json:"host,omitempty"`
	Path       string `json:"path"`
	UserAgent  string `json:"user_agent,omitempty"`
	BodyPrefix []byte `json:"body_prefix,omitempty"`
	BodySize   int64  `json:"body_size,omitempty"`
}

// TLSInfo is what a ClientHello said.
type TLSInfo struct {
	SNI  string   `json:"sni,omitempty"`
	ALPN []string `json:"alpn,omitempty"`
}

// StratumInfo is a mining pool login.
type StratumInfo struct {
	Methods []string `json:"methods"`
	Wallet  string   `json:"wallet,omitempty"`
	Agent   string   `json:"agent,omitempty"`
}

// ShellInfo is the exchange with a reverse shell: what the sinkhole sent
// and what came back.
type ShellInfo struct {
	Sent     string `json:"sent"`
	Received string `json:"received"`
}
