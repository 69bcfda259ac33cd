package service

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"slices"
	"testing"
)

// rpcClient sends JSON-RPC lines and reads the pool's lines back.
type rpcClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (c *rpcClient) call(line string) map[string]any {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

func (c *rpcClient) read() map[string]any {
	c.t.Helper()
	l, err := c.r.ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("reading the pool's answer: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(l, &m); err != nil {
		c.t.Fatalf("answer %q: %v", l, err)
	}
	return m
}

func TestStratumXMRig(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("pool.supportxmr.example:3333")
	c := &rpcClient{t, conn, bufio.NewReader(conn)}
	// What xmrig 6.21 sends first, wallet shortened.
	login := c.call(`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0","cn/r"]}}`)
	res, _ := login["result"].(map[string]any)
	job, _ := res["job"].(map[string]any)
	if login["id"] != 1.0 || res["status"] != "OK" || len(job["blob"].(string)) != 152 || job["algo"] != "rx/0" {
		t.Fatalf("login answered %v", login)
	}
	submit := c.call(`{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"1","job_id":"1","nonce":"deadbeef","result":"00"}}`)
	if submit["id"] != 2.0 || submit["result"].(map[string]any)["status"] != "OK" {
		t.Errorf("submit answered %v", submit)
	}
	conn.Close()
	sn.wait()
	got := lastConn(t, s)
	if got.App != AppStratum || got.Stratum == nil || got.Host != "pool.supportxmr.example" || got.DstPort != 3333 {
		t.Fatalf("recorded %+v", got)
	}
	if st := got.Stratum; !slices.Equal(st.Methods, []string{"login", "submit"}) || st.Wallet[:8] != "44AFFq5k" || st.Agent != "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0" {
		t.Errorf("stratum recorded as %+v", st)
	}
}

func TestStratumV1(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("198.51.100.7:3333")
	c := &rpcClient{t, conn, bufio.NewReader(conn)}
	sub := c.call(`{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10.0"]}`)
	if sub["error"] != nil || len(sub["result"].([]any)) != 3 {
		t.Fatalf("subscribe answered %v", sub)
	}
	auth := c.call(`{"params": ["bc1qexamplewallet.worker1", "password"], "id": 2, "method": "mining.authorize"}`)
	if auth["result"] != true {
		t.Fatalf("authorize answered %v", auth)
	}
	// A pool follows an authorisation with the difficulty and a job.
	if d, n := c.read(), c.read(); d["method"] != "mining.set_difficulty" || n["method"] != "mining.notify" || len(n["params"].([]any)) != 9 {
		t.Errorf("after authorize: %v then %v", d, n)
	}
	conn.Close()
	sn.wait()
	st := lastConn(t, s).Stratum
	if st == nil || !slices.Equal(st.Methods, []string{"mining.subscribe", "mining.authorize"}) || st.Wallet != "bc1qexamplewallet.worker1" || st.Agent != "cgminer/4.10.0" {
		t.Errorf("stratum recorded as %+v", st)
	}
}

func TestJSONRPCNotMining(t *testing.T) {
	s := newService(t, testConfig())
	sn := newSandboxNet(t, s)
	conn := sn.dial("203.0.113.20:8545")
	c := &rpcClient{t, conn, bufio.NewReader(conn)}
	if r := c.call(`{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber","params":[]}`); r["error"] == nil || r["id"] != 7.0 {
		t.Errorf("answered %v, want a method-not-found error", r)
	}
	conn.Close()
	sn.wait()
	if got := lastConn(t, s); got.App != AppUnknown || got.Stratum != nil {
		t.Errorf("recorded %+v", got)
	}
}

func TestStratumAnswer(t *testing.T) {
	tests := []struct {
		method, id, want string
	}{
		{"mining.authorize", `"a"`, `{"id":"a","result":true,"error":null}`},
		{"mining.extranonce.subscribe", `3`, `{"id":3,"result":true,"error":null}`},
		{"keepalived", ``, `{"id":null,"jsonrpc":"2.0","result":{"status":"KEEPALIVED"},"error":null}`},
		{"eth_submitLogin", `1`, `{"id":1,"result":true,"error":null}`},
		{"rpc.discover", `1`, `{"id":1,"jsonrpc":"2.0","result":null,"error":{"code":-32601,"message":"Method not found"}}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(stratumAnswer(tt.method, json.RawMessage(tt.id))[0])
		must(t, err)
		if string(b) != tt.want {
			t.Errorf("%s: %s, want %s", tt.method, b, tt.want)
		}
	}
}
