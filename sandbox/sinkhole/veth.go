package sinkhole

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// sinkSysctls keep the kernel out of the sinkhole namespace: no
// forwarding (a new namespace copies the host's ip_forward) and no IPv6
// on its interfaces, so the veth end there never gets even a link-local
// address. Only the AF_PACKET socket reads its frames.
var sinkSysctls = [][2]string{
	{"ipv4/ip_forward", "0"},
	{"ipv4/conf/all/forwarding", "0"},
	{"ipv4/conf/default/forwarding", "0"},
	{"ipv6/conf/all/disable_ipv6", "1"},
	{"ipv6/conf/default/disable_ipv6", "1"},
}

// sandboxSysctls: no forwarding, and IPv6 without DAD, router
// solicitations or autoconfiguration, so addresses work at once and the
// capture holds the sandbox's own traffic rather than the kernel's.
var sandboxSysctls = [][2]string{
	{"ipv4/ip_forward", "0"},
	{"ipv4/conf/all/forwarding", "0"},
	{"ipv4/conf/default/forwarding", "0"},
	{"ipv6/conf/all/forwarding", "0"},
	{"ipv6/conf/default/forwarding", "0"},
	{"ipv6/conf/all/accept_dad", "0"},
	{"ipv6/conf/default/accept_dad", "0"},
	{"ipv6/conf/all/accept_ra", "0"},
	{"ipv6/conf/default/accept_ra", "0"},
	{"ipv6/conf/all/autoconf", "0"},
	{"ipv6/conf/default/autoconf", "0"},
	{"ipv6/conf/default/router_solicitations", "0"},
}

var noIPv6Sysctls = [][2]string{
	{"ipv6/conf/all/disable_ipv6", "1"},
	{"ipv6/conf/default/disable_ipv6", "1"},
}

// veth is the pair as created: the sinkhole end's index and MAC address
// (the gateway's, as the sandbox sees it).
type veth struct {
	sinkIndex int
	sinkMAC   net.HardwareAddr
}

// setupSandboxNS sets the sandbox namespace's sysctls; call before the
// veth exists so that eth0 inherits the "default" ones.
func setupSandboxNS(path string, noIPv6 bool) error {
	return inNetNS(path, func() error {
		kv := sandboxSysctls
		if noIPv6 {
			kv = append(append([][2]string{}, kv...), noIPv6Sysctls...)
		}
		return sysctls(kv)
	})
}

func setupSinkNS(path string) error {
	return inNetNS(path, func() error { return sysctls(sinkSysctls) })
}

// createVeth makes the pair inside the sinkhole namespace with its peer
// born straight into the sandbox namespace, so neither end ever appears
// in the host's namespace, and configures both ends.
func createVeth(sinkPath, sandboxPath string, cfg Config) (veth, error) {
	var v veth
	nsfd, err := unix.Open(sandboxPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return v, fmt.Errorf("open sandbox netns: %w", err)
	}
	defer unix.Close(nsfd)

	err = inNetNS(sinkPath, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink: %w", err)
		}
		defer h.Close()
		la := netlink.NewLinkAttrs()
		la.Name = sinkIf
		la.MTU = cfg.MTU
		err = h.LinkAdd(&netlink.Veth{
			LinkAttrs:     la,
			PeerName:      sandboxIf,
			PeerNamespace: netlink.NsFd(nsfd),
			PeerMTU:       uint32(cfg.MTU),
		})
		if err != nil {
			return fmt.Errorf("add veth: %w", err)
		}
		l, err := h.LinkByName(sinkIf)
		if err != nil {
			return fmt.Errorf("veth: %w", err)
		}
		// The kernel has no address to answer ARP for here anyway; NOARP
		// says so and keeps it silent should that ever change.
		if err := h.LinkSetARPOff(l); err != nil {
			return fmt.Errorf("veth arp off: %w", err)
		}
		if err := ethtoolOff(sinkIf, ethtoolSGRO); err != nil {
			return err
		}
		if err := h.LinkSetUp(l); err != nil {
			return fmt.Errorf("veth up: %w", err)
		}
		v.sinkIndex = l.Attrs().Index
		v.sinkMAC = l.Attrs().HardwareAddr
		return nil
	})
	if err != nil {
		return v, err
	}
	return v, inNetNS(sandboxPath, func() error { return configureSandbox(cfg) })
}

// configureSandbox runs inside the sandbox namespace: offloads off, the
// addresses, lo and eth0 up, default routes through the sinkhole.
func configureSandbox(cfg Config) error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	// With checksum and segmentation offload the kernel would hand the
	// veth unchecksummed 64 KiB segments; the sinkhole's stack wants
	// frames as a wire would carry them.
	if err := ethtoolOff(sandboxIf, ethtoolSTXCSUM, ethtoolSTSO, ethtoolSGSO, ethtoolSGRO); err != nil {
		return err
	}
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	eth, err := h.LinkByName(sandboxIf)
	if err != nil {
		return fmt.Errorf("%s: %w", sandboxIf, err)
	}
	addrs := []netip.Prefix{cfg.Address}
	if !cfg.NoIPv6 {
		addrs = append(addrs, cfg.Address6)
	}
	for _, a := range addrs {
		na := &netlink.Addr{IPNet: prefixNet(a)}
		if a.Addr().Is6() {
			na.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(eth, na); err != nil {
			return fmt.Errorf("address %s: %w", a, err)
		}
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("%s up: %w", sandboxIf, err)
	}
	gws := []netip.Addr{cfg.Gateway}
	if !cfg.NoIPv6 {
		gws = append(gws, cfg.Gateway6)
	}
	for _, gw := range gws {
		r := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(gw.AsSlice())}
		if gw.Is6() {
			r.Family = netlink.FAMILY_V6
		}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	return nil
}

// deleteVeth removes the pair (both ends) from the sinkhole namespace, so
// it is gone even if something still holds the sandbox namespace.
func deleteVeth(sinkPath string) error {
	return inNetNS(sinkPath, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink: %w", err)
		}
		defer h.Close()
		l, err := h.LinkByName(sinkIf)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return nil
			}
			return fmt.Errorf("veth: %w", err)
		}
		if err := h.LinkDel(l); err != nil {
			return fmt.Errorf("delete veth: %w", err)
		}
		return nil
	})
}

func prefixNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// Legacy ethtool "set" commands (linux/ethtool.h); x/sys has no wrapper.
const (
	ethtoolSTXCSUM = 0x17
	ethtoolSTSO    = 0x1f
	ethtoolSGSO    = 0x24
	ethtoolSGRO    = 0x2c
)

type ethtoolValue struct{ cmd, data uint32 }

// ifreqData is struct ifreq with the ifr_data pointer arm of its union.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [16]byte
}

// ethtoolOff turns features of the named interface off. It runs in the
// interface's namespace: the ioctl's socket picks the namespace.
func ethtoolOff(name string, cmds ...uint32) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("ethtool socket: %w", err)
	}
	defer unix.Close(fd)
	for _, c := range cmds {
		v := &ethtoolValue{cmd: c}
		ifr := &ifreqData{data: unsafe.Pointer(v)}
		copy(ifr.name[:], name)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(ifr))); e != 0 {
			return fmt.Errorf("ethtool %s cmd %#x: %w", name, c, e)
		}
	}
	return nil
}
