package service

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/sandscan/sandscan/trace"
)

const (
	// maxRPCLine bounds one JSON-RPC line; a miner's login is ~300 bytes.
	maxRPCLine = 16 << 10
	// maxMethods bounds the distinct methods kept per connection.
	maxMethods = 16
	// maxDialogLines bounds the lines answered on one connection.
	maxDialogLines = 256
)

// rpcRequest is a JSON-RPC call as miners send it (one per line).
type rpcRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// rpcReply is a JSON-RPC answer; ID is the request's, unchanged.
type rpcReply struct {
	ID      json.RawMessage `json:"id"`
	JSONRPC string          `json:"jsonrpc,omitempty"`
	Result  any             `json:"result"`
	Error   any             `json:"error"`
}

// rpcNotice is a call from the pool to the miner.
type rpcNotice struct {
	ID     *int   `json:"id"`
	Method string `json:"method"`
	Params []any  `json:"params"`
}

// The job handed out: all-zero work with an easy target. Enough for
// xmrig (76-byte blob, rx/0) and for Bitcoin-style stratum miners to start
// hashing, which is the behaviour the analyzer looks for.
var (
	xmrigJob = map[string]any{
		"blob":      strings.Repeat("0", 152),
		"job_id":    "1",
		"target":    "b88d0600",
		"algo":      "rx/0",
		"height":    3000000,
		"seed_hash": strings.Repeat("0", 64),
	}
	stratumNotify = rpcNotice{Method: "mining.notify", Params: []any{
		"1", strings.Repeat("0", 64), "01000000010000", "ffffffff00000000", []any{},
		"20000000", "1d00ffff", "66000000", true,
	}}
	stratumDifficulty = rpcNotice{Method: "mining.set_difficulty", Params: []any{1}}
)

// isMiningMethod reports whether a JSON-RPC method is one of a mining
// protocol's: stratum v1 (mining.*), xmrig's, or Ethereum's stratum proxy.
func isMiningMethod(m string) bool {
	switch m {
	case "login", "getjob", "submit", "keepalived", "eth_submitLogin", "eth_getWork", "eth_submitWork", "eth_submitHashrate":
		return true
	}
	return strings.HasPrefix(m, "mining.")
}

// serveStratum answers JSON-RPC lines as a mining pool would, recording
// the methods, the wallet and the miner's agent. A JSON-RPC client that
// calls no mining method stays App "unknown".
func (ss *session) serveStratum() {
	info := &trace.StratumInfo{}
	mining := false
	defer func() {
		if mining {
			ss.c.App, ss.c.Stratum = AppStratum, info
		}
	}()
	for range maxDialogLines {
		line, err := ss.readLine(maxRPCLine)
		if err != nil {
			return
		}
		var req rpcRequest
		if json.Unmarshal([]byte(line), &req) != nil {
			continue
		}
		method := clean(req.Method, 64)
		if isMiningMethod(method) {
			mining = true
		}
		if !slices.Contains(info.Methods, method) && len(info.Methods) < maxMethods {
			info.Methods = append(info.Methods, method)
		}
		noteLogin(info, method, req.Params)
		for _, out := range stratumAnswer(method, req.ID) {
			b, err := json.Marshal(out)
			if err != nil {
				return
			}
			if ss.write(append(b, '\n')) != nil {
				return
			}
		}
	}
}

// noteLogin fills the wallet and agent from a login call's parameters.
func noteLogin(info *trace.StratumInfo, method string, params json.RawMessage) {
	switch method {
	case "login": // xmrig: {"login": wallet, "pass": ..., "agent": ...}
		var p struct {
			Login string `json:"login"`
			Agent string `json:"agent"`
		}
		if json.Unmarshal(params, &p) == nil {
			info.Wallet = clean(p.Login, 256)
			info.Agent = clean(p.Agent, 256)
		}
	case "mining.subscribe": // [agent, session?]
		if s := firstParam(params); s != "" {
			info.Agent = clean(s, 256)
		}
	case "mining.authorize", "eth_submitLogin": // [wallet(.worker), password]
		if s := firstParam(params); s != "" {
			info.Wallet = clean(s, 256)
		}
	}
}

// firstParam is the first element of a params array when it is a string.
func firstParam(params json.RawMessage) string {
	var p []json.RawMessage
	var s string
	if json.Unmarshal(params, &p) != nil || len(p) == 0 || json.Unmarshal(p[0], &s) != nil {
		return ""
	}
	return s
}

// stratumAnswer is what a pool sends back to method, in order.
func stratumAnswer(method string, id json.RawMessage) []any {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	ok := func(result any) rpcReply { return rpcReply{ID: id, Result: result} }
	switch method {
	case "login":
		return []any{rpcReply{ID: id, JSONRPC: "2.0", Result: map[string]any{
			"id": "1", "job": xmrigJob, "extensions": []string{"keepalive"}, "status": "OK",
		}}}
	case "getjob":
		return []any{rpcReply{ID: id, JSONRPC: "2.0", Result: xmrigJob}}
	case "submit":
		return []any{rpcReply{ID: id, JSONRPC: "2.0", Result: map[string]string{"status": "OK"}}}
	case "keepalived":
		return []any{rpcReply{ID: id, JSONRPC: "2.0", Result: map[string]string{"status": "KEEPALIVED"}}}
	case "mining.subscribe":
		return []any{ok([]any{[]any{[]string{"mining.set_difficulty", "1"}, []string{"mining.notify", "1"}}, "08000002", 4})}
	case "mining.authorize":
		return []any{ok(true), stratumDifficulty, stratumNotify}
	case "eth_getWork":
		zero := "0x" + strings.Repeat("0", 64)
		return []any{ok([]string{zero, zero, "0x00000000ffff" + strings.Repeat("f", 52)})}
	}
	if isMiningMethod(method) {
		return []any{ok(true)}
	}
	return []any{rpcReply{ID: id, JSONRPC: "2.0", Error: map[string]any{"code": -32601, "message": "Method not found"}}}
}
