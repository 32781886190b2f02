// Package postgres is the self-run Postgres both backends start from the
// official postgres image (Fly database = machine, Compose): its database,
// owner and port, the image's environment, and the URL the app reaches it
// by.
package postgres

import (
	"net"
	"net/url"
	"strconv"
)

// The database the image creates at first start, its owner, and its port.
const (
	User     = "emothe"
	Database = "emothe"
	Port     = 5432
)

// EnvPassword is the official image's initial password of User; its value
// is a secret the deployer supplies.
const EnvPassword = "POSTGRES_PASSWORD"

// Env is the official image's plain environment, with the data in a
// subdirectory of mount: the image advises it for mount points, and
// initdb refuses a volume root that holds lost+found.
func Env(mount string) map[string]string {
	return map[string]string{
		"POSTGRES_USER": User,
		"POSTGRES_DB":   Database,
		"PGDATA":        mount + "/pgdata",
	}
}

// URL is the app's connection URL of the database on host. It has no TLS:
// the official image serves none, and both backends reach it only on a
// private network (Fly's 6PN is WireGuard between hosts; Compose's never
// leaves the Docker host).
func URL(host, password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(User, password),
		Host:     net.JoinHostPort(host, strconv.Itoa(Port)),
		Path:     "/" + Database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}
