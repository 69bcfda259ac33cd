// Command recon imitates the discovery stage of an intrusion (and scripts
// like linpeas): accounts, listening sockets, running processes, network
// interfaces and a quick scan of well-known service ports on localhost.
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandscan/sandscan/testdata/behaviours/internal/guard"
)

var ports = []int{22, 80, 443, 2375, 2379, 3306, 6379, 8080, 10250}

func main() {
	guard.Require("recon")
	for _, p := range []string{"/etc/passwd", "/etc/hostname", "/proc/net/tcp", "/proc/net/tcp6", "/proc/self/cgroup"} {
		data, err := os.ReadFile(p)
		fmt.Printf("recon: %s: %d lines (%v)\n", p, strings.Count(string(data), "\n"), err)
	}

	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		fmt.Printf("recon: process %s: %s\n", filepath.Base(filepath.Dir(p)), strings.ReplaceAll(string(data), "\x00", " "))
	}

	ifaces, err := net.Interfaces()
	if err != nil {
		fmt.Println("recon: interfaces:", err)
	}
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		fmt.Printf("recon: interface %s %v\n", ifc.Name, addrs)
	}

	for _, port := range ports {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		conn, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			fmt.Printf("recon: %s closed\n", addr)
			continue
		}
		conn.Close()
		fmt.Printf("recon: %s open\n", addr)
	}
}
