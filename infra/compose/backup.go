package compose

import (
	"strconv"
	"time"

	"github.com/emothe/emothe/contract"
)

// backupInterval is the time between two dumps.
const backupInterval = 24 * time.Hour

// backupScript dumps the database at start and then every interval into
// /backups, in pg_dump's custom format (what pg_restore reads), and deletes
// dumps older than the retention. A failed dump is retried a minute later.
// A dump is written under a temporary name first, so a *.dump file is
// always whole. Stopping the container ends the wait at once.
const backupScript = `set -u
trap 'exit 0' TERM INT
while :; do
	file=/backups/emothe-$(date -u +%Y%m%dT%H%M%SZ).dump
	if pg_dump --format=custom --dbname="$` + contract.EnvDatabaseURL + `" --file="$file.partial"; then
		mv "$file.partial" "$file"
		echo "backup: wrote $file"
		wait_s=$BACKUP_INTERVAL_SECONDS
	else
		rm -f "$file.partial"
		echo "backup: pg_dump failed; retrying in 60s" >&2
		wait_s=60
	fi
	find /backups -name '*.dump' -mmin +$((BACKUP_RETENTION_DAYS * 1440)) -delete
	sleep "$wait_s" & wait $! # in the background, so a stop is not held up
done
`

// backupHealth is unhealthy when no dump is younger than an interval plus an
// hour: the schedule has stopped or every dump fails.
const backupHealth = `find /backups -name '*.dump' -mmin -$((BACKUP_INTERVAL_SECONDS / 60 + 60)) | grep -q .`

// backup runs the schedule in the Postgres image, whose pg_dump matches the
// server's major version; it reaches the database by DATABASE_URL, so it
// works for an external database too.
func backup(cfg Config, private Network, backups Volume, after []string) Container {
	p := cfg.AppName
	return Container{
		Name: p + "-backup-1", Service: "backup", Image: cfg.PostgresImage,
		Command: []string{"sh", "-c", backupScript},
		Env: map[string]string{
			"BACKUP_RETENTION_DAYS":   strconv.Itoa(cfg.BackupRetentionDays),
			"BACKUP_INTERVAL_SECONDS": strconv.Itoa(int(backupInterval.Seconds())),
		},
		Secrets: []string{contract.EnvDatabaseURL},
		Health: &Health{
			Test:     []string{"CMD-SHELL", backupHealth},
			Interval: 10 * time.Second, Timeout: 5 * time.Second, StartPeriod: 2 * time.Minute, Retries: 3,
		},
		Networks:  []Attachment{{Network: private.Name}},
		Mounts:    []Mount{{Volume: backups.Name, Target: "/backups"}},
		Restart:   "unless-stopped",
		Labels:    containerLabels(p, "backup", 1),
		Run:       Service,
		Rollout:   Recreate,
		After:     after,
		StopGrace: 10 * time.Second,
	}
}
