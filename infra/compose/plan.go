package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/emothe/emothe/contract"
	"github.com/emothe/emothe/infra/postgres"
)

// appAlias is the DNS name all app replicas share on the private network;
// the proxy resolves it to find them, so it needs no change when they do.
const appAlias = "app"

// Plan decides everything the backend runs for cfg, with image as the
// release image (the app and its migrations). It is pure: the same
// configuration and image give the same Spec.
func Plan(cfg Config, image string) Spec {
	k := cfg
	p := cfg.AppName
	external := k.DatabaseURL.Set()
	s := Spec{Project: p}

	private := Network{Name: p + "_private", Internal: !external, Labels: networkLabels(p, "private")}
	edge := Network{Name: p + "_edge", Labels: networkLabels(p, "edge")}
	s.Networks = []Network{private, edge}

	keep := cfg.KeepData()
	backups := Volume{Name: p + "_backups", Keep: keep, Labels: volumeLabels(p, "backups")}
	proxyData := Volume{Name: p + "_proxy-data", Labels: volumeLabels(p, "proxy-data")}

	var dbAfter []string
	if external {
		s.DatabaseHost = externalHost(k.DatabaseURL.Value())
	} else {
		data := Volume{Name: p + "_pgdata", Keep: keep, Labels: volumeLabels(p, "pgdata")}
		s.Volumes = append(s.Volumes, data)
		db := postgresContainer(cfg, private, edge, data)
		s.DatabaseHost = db.Name
		s.Containers = append(s.Containers, db)
		dbAfter = []string{"db"}
	}
	s.Volumes = append(s.Volumes, backups, proxyData)

	s.Containers = append(s.Containers, Container{
		Name: p + "-migrate", Service: "migrate", Image: image, Release: true,
		Command: []string{contract.Release},
		Env:     map[string]string{contract.EnvLogLevel: cfg.LogLevel},
		Secrets: []string{contract.EnvDatabaseURL},
		// The image's own check probes a server a migration never starts.
		Health:   &Health{Test: []string{"NONE"}},
		Networks: []Attachment{{Network: private.Name}},
		Restart:  "no",
		Labels:   containerLabels(p, "migrate", 1),
		Run:      Task,
		Rollout:  StartFirst,
		After:    dbAfter,
	})

	appHost := cfg.Domain
	if appHost == "" {
		appHost = "localhost:" + strconv.Itoa(k.HTTPPort)
	}
	for n := 1; n <= k.Replicas; n++ {
		s.Containers = append(s.Containers, Container{
			Name: fmt.Sprintf("%s-app-%d", p, n), Service: "app", Image: image, Release: true,
			Command: []string{contract.Serve},
			Env: map[string]string{
				contract.EnvPort:            strconv.Itoa(contract.Port),
				contract.EnvAppHost:         appHost,
				contract.EnvLogLevel:        cfg.LogLevel,
				contract.EnvShutdownTimeout: contract.ShutdownTimeout.String(),
			},
			Secrets: []string{contract.EnvDatabaseURL, contract.EnvSecretKeyBase},
			// The image's own HEALTHCHECK command, probed more often than the
			// image's 10s, so that a rollout waits seconds, not tens of them.
			Health: &Health{
				Test:     []string{"CMD", contract.Binary, contract.Healthcheck},
				Interval: 2 * time.Second, Timeout: 3 * time.Second, StartPeriod: 30 * time.Second, Retries: 3,
			},
			Networks: []Attachment{{Network: private.Name, Aliases: []string{appAlias}}},
			Restart:  "unless-stopped",
			MemoryMB: cfg.MemoryMB,
			CPUs:     cfg.CPUs,
			Labels:   containerLabels(p, "app", n),
			Run:      Service,
			Rollout:  StartFirst,
			After:    []string{"migrate"},
			// Outlasts the service's drain: a replaced replica finishes
			// its in-flight requests before it is killed.
			StopGrace: contract.StopTimeout,
		})
	}

	s.Containers = append(s.Containers, proxy(cfg, private, edge, proxyData))
	s.Containers = append(s.Containers, backup(cfg, private, backups, dbAfter))

	s.URL = cfg.PublicURL("http://localhost:" + strconv.Itoa(k.HTTPPort))
	s.DNSRecords = dnsRecords(cfg.Domain, k.DockerHost)
	for i := range s.Containers {
		s.Containers[i].Labels[configHashLabel] = configHash(s.Containers[i])
	}
	return s
}

// configHashLabel is how Docker Compose tells its containers from others:
// `docker compose ps` and `logs` list only containers that carry it.
const configHashLabel = "com.docker.compose.config-hash"

// configHash fingerprints a container's spec, labels aside, as Compose's
// own hash fingerprints a service's config.
func configHash(c Container) string {
	c.Labels = nil
	b, err := json.Marshal(c)
	if err != nil {
		panic("compose: a Container always marshals: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// DatabaseURL is the app's URL of the project's own Postgres container.
func (s Spec) DatabaseURL(password string) string {
	return postgres.URL(s.DatabaseHost, password)
}

func containerLabels(project, service string, n int) map[string]string {
	return map[string]string{
		"com.docker.compose.project":          project,
		"com.docker.compose.service":          service,
		"com.docker.compose.container-number": strconv.Itoa(n),
		// `docker compose ps` lists only containers marked as not one-off.
		"com.docker.compose.oneoff": "False",
	}
}

func networkLabels(project, name string) map[string]string {
	return map[string]string{"com.docker.compose.project": project, "com.docker.compose.network": name}
}

func volumeLabels(project, name string) map[string]string {
	return map[string]string{"com.docker.compose.project": project, "com.docker.compose.volume": name}
}

// externalHost is the host of an external database URL, which the loader
// has already checked.
func externalHost(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// dnsRecords tells what to create for domain: the Docker host's address when
// the configuration names it, or a placeholder for the local engine's.
func dnsRecords(domain, dockerHost string) []string {
	if domain == "" {
		return nil
	}
	u, err := url.Parse(dockerHost)
	host := ""
	if err == nil && u.Scheme != "unix" {
		host = u.Hostname()
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		return []string{domain + " A <public IPv4 of the Docker host>", domain + " AAAA <public IPv6 of the Docker host, if any>"}
	case ip == nil:
		return []string{domain + " CNAME " + host + "."}
	case ip.To4() != nil:
		return []string{domain + " A " + host}
	default:
		return []string{domain + " AAAA " + host}
	}
}
