package compose

import (
	"time"

	"github.com/emothe/emothe/infra/postgres"
)

// dataMount is where the official image keeps its data.
const dataMount = "/var/lib/postgresql/data"

// dbContainer names the Postgres container of project app.
func dbContainer(app string) string { return app + "-db-1" }

func postgresContainer(cfg Config, private, edge Network, data Volume) Container {
	p := cfg.AppName
	c := Container{
		Name: dbContainer(p), Service: "db", Image: cfg.PostgresImage,
		Env:     postgres.Env(dataMount),
		Secrets: []string{postgres.EnvPassword},
		// Over TCP, so the official image's socket-only init server does not
		// count as ready.
		Health: &Health{
			Test:     []string{"CMD", "pg_isready", "-h", "127.0.0.1", "-U", postgres.User, "-d", postgres.Database},
			Interval: 2 * time.Second, Timeout: 5 * time.Second, StartPeriod: time.Minute, Retries: 5,
		},
		Networks:  []Attachment{{Network: private.Name, Aliases: []string{"db"}}},
		Mounts:    []Mount{{Volume: data.Name, Target: dataMount}},
		Restart:   "unless-stopped",
		Labels:    containerLabels(p, "db", 1),
		Run:       Service,
		Rollout:   Recreate,
		StopGrace: time.Minute,
	}
	if port := cfg.DatabasePort; port != 0 {
		// Publishing needs a network with a route to the host: the private
		// one is internal.
		c.Networks = append(c.Networks, Attachment{Network: edge.Name})
		c.Ports = []Port{{HostIP: "127.0.0.1", Host: port, Container: postgres.Port}}
	}
	return c
}
