package sink

import (
	"reflect"
	"testing"

	"github.com/sandscan/sandscan/trace"
)

func TestDecodeSockAddr(t *testing.T) {
	in6 := []byte{10, 0, 0x01, 0xbb, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	mapped := []byte{10, 0, 0x11, 0x5c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}
	tests := []struct {
		name string
		in   []byte
		want *trace.SockAddr
	}{
		{"empty", nil, nil},
		{"one byte", []byte{2}, nil},
		{"inet", sockaddrIn([4]byte{192, 168, 1, 5}, 3333), &trace.SockAddr{Family: trace.FamilyInet, IP: "192.168.1.5", Port: 3333}},
		{"inet without padding", sockaddrIn([4]byte{1, 1, 1, 1}, 53)[:8], &trace.SockAddr{Family: trace.FamilyInet, IP: "1.1.1.1", Port: 53}},
		{"inet too short", []byte{2, 0, 0, 80, 1}, &trace.SockAddr{Family: trace.FamilyOther, Raw: 2}},
		{"inet6", in6, &trace.SockAddr{Family: trace.FamilyInet6, IP: "2001:db8::1", Port: 443}},
		{"inet6 v4-mapped", mapped, &trace.SockAddr{Family: trace.FamilyInet6, IP: "::ffff:1.2.3.4", Port: 4444}},
		{"inet6 too short", in6[:20], &trace.SockAddr{Family: trace.FamilyOther, Raw: 10}},
		{"unix path", append([]byte{1, 0}, "/run/docker.sock\x00junk"...), &trace.SockAddr{Family: trace.FamilyUnix, Path: "/run/docker.sock"}},
		{"unix abstract", append([]byte{1, 0, 0}, "x11\x00\x00\x00"...), &trace.SockAddr{Family: trace.FamilyUnix, Path: "@x11"}},
		{"unix unnamed", []byte{1, 0}, &trace.SockAddr{Family: trace.FamilyUnix}},
		{"unix invalid utf-8", []byte{1, 0, '/', 0xff}, &trace.SockAddr{Family: trace.FamilyUnix, Path: "/\uFFFD"}},
		{"netlink", []byte{16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, &trace.SockAddr{Family: trace.FamilyOther, Raw: 16}},
		{"unspec", []byte{0, 0}, &trace.SockAddr{Family: trace.FamilyOther}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeSockAddr(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzDecodeSockAddr(f *testing.F) {
	f.Add(sockaddrIn([4]byte{10, 0, 0, 1}, 80))
	f.Add([]byte{10, 0, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{1, 0, 0, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		a := DecodeSockAddr(b)
		if a == nil {
			if len(b) >= 2 {
				t.Fatal("nil for an address with a family")
			}
			return
		}
		if len(a.Path) > 3*maxSockAddr+1 {
			t.Fatalf("path of %d bytes from %d bytes", len(a.Path), len(b))
		}
	})
}
