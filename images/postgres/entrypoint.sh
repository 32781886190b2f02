#!/bin/sh
# Initialises PGDATA on first start as the official image does, then runs
# the server as the postgres user; other commands run as given.
set -eu
if [ "${1:-}" != postgres ]; then
	exec "$@"
fi
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	chown postgres "$pwfile"
	runuser -u postgres -- initdb --username="$user" --pwfile="$pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	# Create the database on a socket-only server, so nothing connects early.
	runuser -u postgres -- pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
	if [ "$db" != postgres ]; then
		runuser -u postgres -- createdb --username="$user" "$db"
	fi
	runuser -u postgres -- pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
shift
# setpriv execs, so the server is PID 1 and gets `docker stop`'s SIGINT (a
# fast shutdown); runuser would stay PID 1 without passing SIGINT on, and
# every stop would wait out the grace period and end in a SIGKILL.
exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -c listen_addresses='*' "$@"
