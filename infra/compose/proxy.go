package compose

import (
	"fmt"
	"strings"
	"time"

	"github.com/emothe/emothe/contract"
)

// caddyfilePath is where the official caddy image reads its configuration.
const caddyfilePath = "/etc/caddy/Caddyfile"

func proxy(cfg Config, private, edge Network, data Volume) Container {
	p := cfg.AppName
	ports := []Port{{HostIP: "127.0.0.1", Host: cfg.HTTPPort, Container: 80}}
	if cfg.Domain != "" {
		ports = []Port{{Host: 80, Container: 80}, {Host: 443, Container: 443}}
	}
	return Container{
		Name: p + "-proxy-1", Service: "proxy", Image: cfg.ProxyImage,
		Command: []string{"caddy", "run", "--config", caddyfilePath, "--adapter", "caddyfile"},
		// As the official image sets them, so certificates land in the volume.
		Env:   map[string]string{"XDG_DATA_HOME": "/data", "XDG_CONFIG_HOME": "/config"},
		Files: []File{{Path: caddyfilePath, Content: caddyfile(cfg.Domain, cfg.ACMEEmail)}},
		Health: &Health{
			Test:     []string{"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:2019/config/"},
			Interval: 5 * time.Second, Timeout: 3 * time.Second, StartPeriod: 10 * time.Second, Retries: 3,
		},
		// The edge network first: it carries the published ports.
		Networks:  []Attachment{{Network: edge.Name}, {Network: private.Name}},
		Mounts:    []Mount{{Volume: data.Name, Target: "/data"}},
		Ports:     ports,
		Restart:   "unless-stopped",
		Labels:    containerLabels(p, "proxy", 1),
		Run:       Service,
		Rollout:   Recreate,
		StopGrace: 10 * time.Second,
	}
}

// caddyfile is the proxy's configuration. It names the app replicas only by
// their shared DNS alias, re-resolved every second, so replacing replicas
// never changes it and the proxy keeps running through app updates. A
// request whose replica has gone (stopped, or refusing while it drains) is
// retried on another for up to lb_try_duration, so none fails.
func caddyfile(domain, acmeEmail string) string {
	var b strings.Builder
	b.WriteString("{\n")
	if domain == "" {
		// Local: plain HTTP, no certificates.
		b.WriteString("\tauto_https off\n")
	} else {
		fmt.Fprintf(&b, "\temail %s\n", acmeEmail)
	}
	b.WriteString("}\n\n")
	site := ":80"
	if domain != "" {
		site = domain // HTTPS with an automatic certificate; :80 redirects
	}
	fmt.Fprintf(&b, `%s {
	reverse_proxy {
		dynamic a {
			name %s
			port %d
			refresh 1s
		}
		lb_policy round_robin
		lb_try_duration 10s
		lb_try_interval 100ms
		fail_duration 10s
		transport http {
			dial_timeout 1s
		}
	}
}
`, site, appAlias, contract.Port)
	return b.String()
}
