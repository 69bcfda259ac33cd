package service

import "testing"

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		port uint16
		app  string
		more bool
	}{
		{"GET / HTTP/1.1\r\n", 80, AppHTTP, false},
		{"POST /x HTTP/1.0\r\n", 8080, AppHTTP, false},
		{"CONNECT a:443 HTTP/1.1\r\n", 3128, AppHTTP, false},
		{"GE", 80, "", true},
		{"OPTIO", 80, "", true},
		{"get / HTTP/1.1\r\n", 80, AppUnknown, false},
		{"\x16\x03\x01\x02\x00\x01", 443, AppTLS, false},
		{"\x16\x03", 443, "", true},
		{"\x16\x09\x01", 443, AppUnknown, false},
		{"SSH-2.0-OpenSSH_8.9\r\n", 22, AppSSH, false},
		{"SS", 22, "", true},
		{`{"id":1,"method":"login"}` + "\n", 3333, AppStratum, false},
		{"  \n{\"id\":1}", 3333, AppStratum, false},
		{"NICK bot\r\n", 6667, AppIRC, false},
		{"USER bot 0 * :x\r\n", 6667, AppIRC, false},
		{"USER anonymous\r\n", 21, AppFTP, false},
		{"USER bob\r\n", 110, AppPOP3, false},
		{"CAPA\r\n", 110, AppPOP3, false},
		{"CAPA\r\n", 6667, AppUnknown, false},
		{"EHLO x\r\n", 2525, AppSMTP, false},
		{"helo x\r\n", 25, AppSMTP, false},
		{"NIC", 6667, "", true},
		{"sh-5.2$ ", 4444, AppShell, false},
		{"\x00\x1d\xbe\xef\x01\x00", 53, AppDNS, false},
		{"\x00", 53, "", true},
		{"\x00\x05", 53, AppUnknown, false},
		{"\x00\x1d\xbe\xef", 5353, AppUnknown, false},
		{"\xde\xad\xbe\xef\x00\x00\x00\x00", 9999, AppUnknown, false},
		{"hello there, operator\n", 9999, AppUnknown, false},
		{"   ", 9999, "", true},
	}
	for _, tt := range tests {
		app, more := sniff([]byte(tt.in), tt.port)
		if app != tt.app || more != tt.more {
			t.Errorf("sniff(%q, %d) = %q, %v; want %q, %v", tt.in, tt.port, app, more, tt.app, tt.more)
		}
	}
}

func FuzzSniff(f *testing.F) {
	for _, seed := range []string{"GET / HTTP/1.1\r\n", "\x16\x03\x01\x00", "SSH-2.0-x\r\n", `{"method":"login"}`, "NICK a\r\n", "$ ", "\x00\x1d"} {
		f.Add([]byte(seed), uint16(80))
	}
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		app, more := sniff(b, port)
		if more != (app == "") {
			t.Fatalf("sniff(%q) = %q, %v", b, app, more)
		}
		if again, _ := sniff(b, port); again != app {
			t.Fatalf("sniff is not deterministic: %q then %q", app, again)
		}
	})
}
