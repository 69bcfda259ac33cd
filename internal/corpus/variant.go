package corpus

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sandscan/sandscan/internal/imagebuild"
)

// Labels are the behaviour classes of the corpus.
const (
	Benign          = "benign"
	Cryptominer     = "cryptominer"
	Backdoor        = "backdoor"
	Dropper         = "dropper"
	CredentialTheft = "credential_theft"
	Escape          = "container_escape"
	Recon           = "reconnaissance"
	Persistence     = "persistence"
	Destruction     = "destruction"
)

// Labels lists every class.
var Labels = []string{Benign, Cryptominer, Backdoor, Dropper, CredentialTheft, Escape, Recon, Persistence, Destruction}

// Base is the root filesystem a variant's image starts from.
type Base string

const (
	// Busybox is the static busybox userland of imagebuild.BusyboxBase.
	Busybox Base = "busybox"
	// Debian is a debootstrap bookworm with DebianPackages.
	Debian Base = "debian"
)

// DebianPackages are installed in the Debian base: interpreters, network
// tools, servers and compilers the variants use.
var DebianPackages = []string{
	"bzip2", "ccrypt", "cron", "curl", "dnsutils", "gawk", "gcc", "git", "gnupg", "iproute2",
	"libc6-dev", "logrotate", "make", "net-tools", "netcat-openbsd", "nginx-light", "nmap", "nodejs",
	"openssh-client", "openssl", "perl", "postgresql", "procps", "psmisc", "python3", "redis-server",
	"socat", "sqlite3", "wget", "xz-utils",
}

// BehavePath is where the behave multi-tool lives in every image.
const BehavePath = "/usr/local/bin/behave"

// Variant is one image of the corpus: a parameterised behaviour on a base.
type Variant struct {
	// Name is unique in the corpus, e.g. "miner-go-stratum-03".
	Name  string
	Label string
	// Group is the variant family: variants differing only in parameters
	// share it, so an evaluation can hold whole families out.
	Group string
	Base  Base
	// Script is the entrypoint, a shell script run by Shell ("/bin/sh" on
	// busybox, "/bin/bash" on Debian) after the gVisor guard.
	Script string
	// Exec, when set instead of Script, is the entrypoint's argv: the
	// behave tool, installed at Exec[0], runs with no shell around it, as
	// a single-binary image does (behave checks for gVisor itself).
	Exec []string
	// Files are extra files in the image (fake credentials, data to
	// destroy, configuration).
	Files []imagebuild.File
	Env   []string
	// User runs the entrypoint (default root).
	User string
	// Timeout bounds the run (default DefaultTimeout).
	Timeout time.Duration
	// Describe says what the variant does, for the manifest.
	Describe string
}

// DefaultTimeout bounds a run unless its variant says otherwise; a variant
// that runs until stopped (a daemon, a miner) ends there.
const DefaultTimeout = 8 * time.Second

// guard is the entrypoint's first lines: like every behaviour image, a
// corpus image does nothing unless it runs inside gVisor.
const guard = `if [ "$(uname -v)" != "#1 SMP Sun Jan 10 15:06:54 PST 2016" ]; then
	echo "sandscan corpus simulation: not inside gVisor, so doing nothing" >&2
	exit 0
fi
case "$(uname -r)" in 4.4.0 | *-gvisor) ;; *) exit 0 ;; esac
`

// EntrypointPath is where the variant's script is written.
const EntrypointPath = "/usr/local/bin/entrypoint"

// Shell is the interpreter of the entrypoint on a base.
func (b Base) Shell() string {
	if b == Debian {
		return "/bin/bash"
	}
	return "/bin/sh"
}

// Entrypoint returns the script with its interpreter line and guard.
func (v Variant) Entrypoint() []byte {
	return []byte("#!" + v.Base.Shell() + "\n" + guard + strings.TrimLeft(v.Script, "\n"))
}

// Validate checks what the generator relies on.
func (v Variant) Validate() error {
	switch {
	case v.Name == "" || strings.ContainsAny(v.Name, "/ \t\n") || v.Name != strings.ToLower(v.Name):
		return fmt.Errorf("corpus: bad variant name %q", v.Name)
	case !slices.Contains(Labels, v.Label):
		return fmt.Errorf("corpus: %s: unknown label %q", v.Name, v.Label)
	case v.Group == "":
		return fmt.Errorf("corpus: %s: no group", v.Name)
	case v.Base != Busybox && v.Base != Debian:
		return fmt.Errorf("corpus: %s: unknown base %q", v.Name, v.Base)
	case (strings.TrimSpace(v.Script) == "") == (len(v.Exec) == 0):
		return fmt.Errorf("corpus: %s: needs a script or an exec, not both", v.Name)
	case len(v.Exec) > 0 && !strings.HasPrefix(v.Exec[0], "/"):
		return fmt.Errorf("corpus: %s: exec %q is not an absolute path", v.Name, v.Exec[0])
	}
	return nil
}

// Variants returns every variant of the corpus, in a fixed order.
func Variants() []Variant {
	var out []Variant
	for _, gen := range []func() []Variant{
		benignVariants, minerVariants, backdoorVariants, dropperVariants, credentialVariants,
		escapeVariants, reconVariants, persistenceVariants, destructionVariants,
	} {
		out = append(out, gen()...)
	}
	return out
}

// family collects the variants of one group, numbering their names.
type family struct {
	label, group string
	base         Base
	out          []Variant
}

func newFamily(label, group string, base Base) *family {
	return &family{label: label, group: group, base: base}
}

// add appends a variant; opts may set Files, Env, User and Timeout.
func (f *family) add(describe, script string, opts ...func(*Variant)) {
	v := Variant{
		Name:     fmt.Sprintf("%s-%02d", f.group, len(f.out)+1),
		Label:    f.label,
		Group:    f.group,
		Base:     f.base,
		Script:   script,
		Describe: describe,
	}
	for _, o := range opts {
		o(&v)
	}
	f.out = append(f.out, v)
}

// addExec appends a variant whose entrypoint is behave itself.
func (f *family) addExec(describe string, argv []string, opts ...func(*Variant)) {
	f.add(describe, "", append(opts, func(v *Variant) { v.Exec = argv })...)
}

func withFiles(files ...imagebuild.File) func(*Variant) {
	return func(v *Variant) { v.Files = append(v.Files, files...) }
}

func withEnv(env ...string) func(*Variant) { return func(v *Variant) { v.Env = append(v.Env, env...) } }

func withTimeout(d time.Duration) func(*Variant) { return func(v *Variant) { v.Timeout = d } }

func withUser(u string) func(*Variant) { return func(v *Variant) { v.User = u } }

// pick returns the i-th element of s, cycling, so parameter lists of
// different lengths combine into varied tuples.
func pick[T any](s []T, i int) T { return s[i%len(s)] }
