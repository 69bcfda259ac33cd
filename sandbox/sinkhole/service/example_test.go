package service_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sandscan/sandscan/sandbox/sinkhole/service"
)

// A dropper resolves its server, downloads its payload over HTTP and
// runs it: the sinkhole answers both steps and records them.
func Example() {
	ctx := context.Background()
	s, err := service.New(service.Config{})
	if err != nil {
		panic(err)
	}
	sandbox := netip.MustParseAddrPort("10.13.0.2:41000")

	// The sandbox's resolver asks for dl.example.
	q := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 1, RecursionDesired: true})
	q.StartQuestions()
	q.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("dl.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	query, _ := q.Finish()
	var reply dnsmessage.Message
	reply.Unpack(s.HandleUDP(ctx, query, sandbox, netip.MustParseAddrPort("10.13.0.1:53")))
	ip := netip.AddrFrom4(reply.Answers[0].Body.(*dnsmessage.AResource).A)
	fmt.Println("dl.example is", ip)

	// It connects there; the plumbing hands the connection over with the
	// address it dialled.
	client, server := net.Pipe()
	go s.HandleTCP(ctx, server, netip.AddrPortFrom(ip, 80))
	io.WriteString(client, "GET /x HTTP/1.1\r\nHost: dl.example\r\nUser-Agent: Wget/1.21.3\r\n\r\n")
	resp, _ := io.ReadAll(client)
	client.Close()
	fmt.Println("got an ELF:", len(resp) > 129 && string(resp[len(resp)-129:][1:4]) == "ELF")

	for _, c := range s.Network().Conns {
		fmt.Println(c.App, c.Host, c.HTTP.Method, c.HTTP.Path, c.HTTP.UserAgent)
	}
	// Output:
	// dl.example is 10.13.128.1
	// got an ELF: true
	// http dl.example GET /x Wget/1.21.3
}
