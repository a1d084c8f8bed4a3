#!/bin/sh
# Stands in for systemctl in tests: prints the fixture named by
# $FAKE_SYSTEMCTL_FIXTURE, or fails like systemctl does without a bus.
# Arguments (show --no-pager -p ... -- UNIT) are checked loosely.
[ "$1" = show ] || { echo "fake-systemctl: unexpected verb $1" >&2; exit 2; }
case "$FAKE_SYSTEMCTL_FIXTURE" in
bus-error)
	echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2
	echo "Failed to connect to bus: Host is down" >&2
	exit 1 ;;
other-error)
	echo "Unknown assignment: --bogus" >&2
	exit 1 ;;
esac
exec cat "$FAKE_SYSTEMCTL_FIXTURE"
