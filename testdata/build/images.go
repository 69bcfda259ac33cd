package main

import "github.com/sandscan/sandscan/internal/imagebuild"

// image is one behaviour image: what it imitates, what a correct analysis
// should conclude, and what goes into it besides the shared busybox base.
type image struct {
	Name       string   `json:"name"`
	Imitates   string   `json:"imitates"`
	Verdict    string   `json:"expected_verdict"` // clean, suspicious or malicious
	Techniques []string `json:"expected_techniques,omitempty"`
	Exits      bool     `json:"exits"` // false: runs until the sandbox stops it
	Docker     bool     `json:"-"`     // also write <name>.docker.tar
	script     string   // entrypoint script under behaviours/<name>/ instead of a Go program
	env        []string
	files      []imagebuild.File
}

// images is every behaviour image, in the order the README lists them.
var images = []image{
	{Name: "benign-web", Verdict: "clean", Exits: true,
		Imitates: "a web service: serves HTTP on 127.0.0.1:8080 for ~2 s, polls itself, exits 0"},
	{Name: "benign-batch", Verdict: "clean", Exits: true, Docker: true,
		Imitates: "a batch job: computes primes, writes /var/tmp/result.txt, exits 0"},
	{Name: "miner", Verdict: "malicious", Exits: true, Techniques: []string{"T1496.001", "T1095"},
		Imitates: "XMRig: pool.minexmr.example:3333 then 203.0.113.10:3333, stratum login with a wallet, 3 s of hashing on every CPU"},
	{Name: "revshell", Verdict: "malicious", Exits: true, Techniques: []string{"T1059.004", "T1095"},
		Imitates: "a reverse shell: c2.example:4444 then 198.51.100.23:4444, dup2 onto 0-2, exec /bin/sh -i; 3 rounds, exits 1"},
	{Name: "credtheft", Verdict: "malicious", Exits: true,
		Techniques: []string{"T1003.008", "T1552.001", "T1552.004", "T1560.002", "T1048.003"},
		Imitates:   "a cloud credential stealer: shadow, SSH key, AWS/docker/kube credentials, secret env vars -> /tmp/.X11-cache.tar.gz -> POST exfil.example / 203.0.113.45",
		env: []string{
			"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
			"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"DB_PASSWORD=example-not-a-password",
		},
		files: fakeCredentials},
	{Name: "persistence", Verdict: "malicious", Exits: true,
		Techniques: []string{"T1053.003", "T1098.004", "T1574.006", "T1546.004"},
		Imitates:   "dropper persistence: /etc/cron.d/sysupdate, /root/.ssh/authorized_keys, /etc/ld.so.preload, /root/.bashrc and /etc/profile.d/sysupdate.sh"},
	{Name: "dropper", Verdict: "malicious", Exits: true, Techniques: []string{"T1105", "T1222.002", "T1070.004"},
		Imitates: "a loader: GET http://dl.example/x (then 192.0.2.10), else its embedded copy -> /tmp/.kworker, chmod +x, exec, delete"},
	{Name: "escape", Verdict: "malicious", Exits: true, Techniques: []string{"T1611", "T1552.007", "T1547.006", "T1055.008"},
		Imitates: "breakout attempts: docker.sock, mount, unshare, ptrace(1), init_module, core_pattern, cgroup release_agent"},
	{Name: "recon", Verdict: "suspicious", Exits: true, Techniques: []string{"T1087.001", "T1049", "T1057", "T1016", "T1046"},
		Imitates: "discovery: /etc/passwd, /proc/net/tcp, /proc/*/cmdline, interfaces, a localhost port scan"},
	{Name: "forkbomb", Verdict: "malicious", Techniques: []string{"T1499.001"},
		Imitates: "a fork bomb: re-execs itself without bound"},
	{Name: "membomb", Verdict: "malicious", Techniques: []string{"T1499.001"},
		Imitates: "memory exhaustion: allocates and touches 32 MiB blocks without bound"},
	{Name: "outputflood", Verdict: "suspicious",
		Imitates: "log flooding: writes lines to stdout without bound"},
	{Name: "sleeper", Verdict: "clean",
		Imitates: "an idle service (or malware waiting out the sandbox): sleeps forever"},
	{Name: "busybox-script", Verdict: "malicious", Exits: true, script: "entrypoint.sh",
		Techniques: []string{"T1105", "T1059.004", "T1053.003", "T1003.008"},
		Imitates:   "a Kinsing/TeamTNT shell stager on busybox: wget|sh from dl.example, crontab entry, reads /etc/shadow, writes /var/tmp/.sysupdate"},
}

// fakeCredentials give credtheft something to steal. The AWS key pair is
// the one AWS documents as an example; the rest is made up and opens
// nothing.
var fakeCredentials = []imagebuild.File{
	{Path: "/root/.ssh", Dir: true, Mode: 0o700},
	{Path: "/root/.ssh/id_rsa", Mode: 0o600, Content: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n" +
		"c2FuZHNjYW4gdGVzdCBrZXk6IG5vdCBhIHJlYWwga2V5LCBvcGVucyBub3RoaW5nLiBzYW5kc2Nh\n" +
		"biB0ZXN0IGtleTogbm90IGEgcmVhbCBrZXksIG9wZW5zIG5vdGhpbmcuIHNhbmRzY2FuIHRlc3Qg\n" +
		"-----END OPENSSH PRIVATE KEY-----\n")},
	{Path: "/root/.aws", Dir: true, Mode: 0o700},
	{Path: "/root/.aws/credentials", Mode: 0o600, Content: []byte("[default]\n" +
		"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n" +
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")},
	{Path: "/root/.docker", Dir: true, Mode: 0o700},
	{Path: "/root/.docker/config.json", Mode: 0o600, Content: []byte(
		`{"auths":{"registry.example":{"auth":"ZXhhbXBsZTpub3QtYS1wYXNzd29yZA=="}}}` + "\n")},
	{Path: "/root/.kube", Dir: true, Mode: 0o700},
	{Path: "/root/.kube/config", Mode: 0o600, Content: []byte("apiVersion: v1\nkind: Config\n" +
		"clusters:\n- name: prod\n  cluster:\n    server: https://k8s.example:6443\n" +
		"users:\n- name: admin\n  user:\n    token: example-not-a-token\n" +
		"contexts:\n- name: prod\n  context: {cluster: prod, user: admin}\ncurrent-context: prod\n")},
}
