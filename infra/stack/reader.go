package stack

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// reader parses raw settings, applying the defaults from Settings and
// collecting one message per bad value.
type reader struct {
	raw  Raw
	errs []string
	bad  map[string]bool
}

// fail records a problem as "emothe:key = value: what is wrong; fix".
func (r *reader) fail(key, value, problem, fix string) {
	if r.bad == nil {
		r.bad = map[string]bool{}
	}
	r.bad[key] = true
	shown := fmt.Sprintf("%q", value)
	if setting(key).Secret {
		shown = "[secret]"
	}
	r.errs = append(r.errs, fmt.Sprintf("%s:%s = %s %s; fix: %s", Namespace, key, shown, problem, fix))
}

func setting(key string) Setting {
	for _, s := range Settings {
		if s.Key == key {
			return s
		}
	}
	panic("infra: undeclared setting " + key) // a programming error, caught by tests
}

// get returns the value of key, or its declared default.
func (r *reader) get(key string) string {
	s := setting(key)
	if v, ok := r.raw.Values[key]; ok {
		if !s.Secret && r.raw.Secrets[key] {
			// A non-secret setting held as a secret is harmless; the reverse is not.
			return v
		}
		return strings.TrimSpace(v)
	}
	return s.Default
}

func (r *reader) oneOf(key string, allowed ...string) string {
	v := r.get(key)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.fail(key, v, "is not one of "+strings.Join(allowed, ", "),
		fmt.Sprintf("pulumi config set %s:%s %s", Namespace, key, allowed[0]))
	return v
}

func (r *reader) integer(key string, lo, hi int) int {
	v := r.get(key)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(key, v, fmt.Sprintf("is not a whole number from %d to %d", lo, hi),
			fmt.Sprintf("pulumi config set %s:%s %d", Namespace, key, max(lo, 1)))
		return n
	}
	return n
}

func (r *reader) oneOfInt(key string, allowed ...int) int {
	v := r.get(key)
	n, err := strconv.Atoi(v)
	if err != nil || !slices.Contains(allowed, n) {
		r.fail(key, v, fmt.Sprintf("is not one of %v", allowed),
			fmt.Sprintf("pulumi config set %s:%s %d", Namespace, key, allowed[0]))
	}
	return n
}

func (r *reader) boolean(key string) bool {
	v := r.get(key)
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(key, v, "is not true or false", fmt.Sprintf("pulumi config set %s:%s true", Namespace, key))
	}
	return b
}

// secret reads a secret setting and refuses one stored in plain text: it
// would sit readable in Pulumi.<stack>.yaml and in the repository.
func (r *reader) secret(key string) Secret {
	v, ok := r.raw.Values[key]
	if !ok || v == "" {
		return Secret{}
	}
	if !r.raw.Secrets[key] {
		r.errs = append(r.errs, fmt.Sprintf(
			"%s:%s is stored in plain text; fix: pulumi config rm %s:%s && pulumi config set --secret %s:%s <value> (and rotate it: it may already be committed)",
			Namespace, key, Namespace, key, Namespace, key))
		return Secret{}
	}
	if key == "secretKeyBase" && len(v) < 64 {
		r.fail(key, v, fmt.Sprintf("is %d characters; it needs at least 64", len(v)),
			"make secrets STACK="+orDefault(r.raw.Stack, "<stack>")+" (or pulumi config set --secret emothe:secretKeyBase \"$(openssl rand -hex 64)\")")
	}
	return Secret{value: v}
}

var appNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)

func (r *reader) appName(key string) string {
	v := r.get(key)
	if v != "" && (!appNameRE.MatchString(v) || strings.Contains(v, "--")) {
		r.fail(key, v, "is not a valid app name (3-63 lowercase letters, digits and single hyphens, starting with a letter)",
			fmt.Sprintf("pulumi config set %s:%s emothe-%s", Namespace, key, orDefault(r.raw.Stack, "dev")))
	}
	return v
}

// image accepts a reference with a tag or a digest: an untagged name would
// float to whatever "latest" is at deploy time.
var imageRE = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-z0-9]+)*(/[a-z0-9._-]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

func (r *reader) image(key string) string {
	return r.imageRef(key, "registry.fly.io/emothe@sha256:<digest>")
}

// imageRef reads an image reference; example goes into the fix.
func (r *reader) imageRef(key, example string) string {
	v := r.get(key)
	if v == "" {
		return v
	}
	last := v[strings.LastIndex(v, "/")+1:]
	if !imageRE.MatchString(v) || !(strings.Contains(last, ":") || strings.Contains(v, "@sha256:")) {
		r.fail(key, v, "is not an image reference with a tag or digest",
			fmt.Sprintf("pulumi config set %s:%s %s", Namespace, key, example))
	}
	return v
}

// repositoryRE is an image repository without tag or digest, on a registry
// host: images are pushed there under a tag of the program's choosing.
var repositoryRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$`)

func (r *reader) repository(key string) string {
	v := r.get(key)
	if v != "" && (!repositoryRE.MatchString(v) || !strings.ContainsAny(v[:strings.Index(v, "/")], ".:")) {
		r.fail(key, v, "is not an image repository on a registry host (no tag, no digest)",
			fmt.Sprintf("pulumi config set %s:%s ghcr.io/acme/emothe", Namespace, key))
	}
	return v
}

// registryHostRE is a registry's host[:port], without scheme or path.
var registryHostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)

func (r *reader) registryHost(key string) string {
	v := r.get(key)
	if !registryHostRE.MatchString(v) || !strings.ContainsAny(v, ".:") {
		r.fail(key, v, "is not a registry host[:port] (no scheme, no path)",
			fmt.Sprintf("pulumi config set %s:%s registry.fly.io", Namespace, key))
	}
	return v
}

// postgresURL reads a secret Postgres connection URL; a bad one is reported
// without its value, which holds a password.
func (r *reader) postgresURL(key string) Secret {
	s := r.secret(key)
	if !s.Set() {
		return s
	}
	u, err := url.Parse(s.Value())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Hostname() == "" || u.Path == "" || u.Path == "/" {
		r.fail(key, s.Value(), "is not a Postgres URL with a host and a database",
			fmt.Sprintf("pulumi config set --secret %s:%s 'postgres://USER:PASSWORD@HOST:5432/DB?sslmode=require'", Namespace, key))
	}
	return s
}

var hostnameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

func (r *reader) hostname(key string) string {
	v := strings.ToLower(r.get(key))
	if v != "" && !hostnameRE.MatchString(v) {
		r.fail(key, v, "is not a DNS hostname", fmt.Sprintf("pulumi config set %s:%s emothe.example.org", Namespace, key))
	}
	return v
}

func (r *reader) email(key string) string {
	v := r.get(key)
	if v == "" {
		return v
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		r.fail(key, v, "is not an email address", fmt.Sprintf("pulumi config set %s:%s ops@example.org", Namespace, key))
	}
	return v
}

func (r *reader) region(key string) string {
	v := strings.ToLower(r.get(key))
	if !slices.Contains(FlyRegions, v) {
		r.fail(key, v, "is not a Fly region code", "use one of "+strings.Join(FlyRegions, " "))
	}
	return v
}

// regions reads a JSON array of region codes; empty means the primary region.
func (r *reader) regions(key, primary string) []string {
	v := r.get(key)
	if v == "" || v == "[]" {
		return []string{primary}
	}
	var list []string
	if err := json.Unmarshal([]byte(v), &list); err != nil || len(list) == 0 {
		r.fail(key, v, "is not a non-empty list of region codes",
			fmt.Sprintf("pulumi config set --path '%s:%s[0]' %s", Namespace, key, orDefault(primary, "mad")))
		return nil
	}
	seen := map[string]bool{}
	for i, code := range list {
		code = strings.ToLower(code)
		list[i] = code
		if !slices.Contains(FlyRegions, code) {
			r.fail(key, v, fmt.Sprintf("names %q, which is not a Fly region code", code),
				"use codes from: "+strings.Join(FlyRegions, " "))
		} else if seen[code] {
			r.fail(key, v, fmt.Sprintf("lists %q twice", code), "list each region once")
		}
		seen[code] = true
	}
	return list
}

// memory checks Fly's sizing rules: 256 MB steps, and per-CPU bounds
// (shared: 256-2048 MB per CPU; performance: 2048-8192 MB per CPU).
func (r *reader) memory(key, kind string, cpus int) int {
	v := r.get(key)
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n%256 != 0 {
		r.fail(key, v, "is not a positive multiple of 256 (Fly sizes memory in 256 MB steps)",
			fmt.Sprintf("pulumi config set %s:%s 512", Namespace, key))
		return n
	}
	lo, hi := 256*cpus, 2048*cpus
	if kind == "performance" {
		lo, hi = 2048*cpus, 8192*cpus
	}
	if cpus > 0 && (n < lo || n > hi) && !r.bad["cpus"] && !r.bad["cpuKind"] {
		r.fail(key, v, fmt.Sprintf("is outside %d-%d MB, the range for %d %s CPU(s)", lo, hi, cpus, kind),
			fmt.Sprintf("pulumi config set %s:%s %d", Namespace, key, lo))
	}
	return n
}

func (r *reader) dockerHost(key string) string {
	v := r.get(key)
	u, err := url.Parse(v)
	ok := err == nil && ((u.Scheme == "unix" && u.Path != "") || (u.Scheme == "ssh" && u.Host != "") ||
		(u.Scheme == "tcp" && u.Host != ""))
	if !ok {
		r.fail(key, v, "is not a Docker host URL (unix:///path, ssh://user@host or tcp://host:port)",
			fmt.Sprintf("pulumi config set %s:%s ssh://deploy@docker.example.org", Namespace, key))
	}
	return v
}

// FlyRegions are the region codes Fly.io accepts for machines.
var FlyRegions = []string{
	"ams", "arn", "atl", "bog", "bom", "bos", "cdg", "den", "dfw", "ewr", "eze", "fra", "gdl", "gig",
	"gru", "hkg", "iad", "jnb", "lax", "lhr", "mad", "mia", "nrt", "ord", "otp", "phx", "qro", "scl",
	"sea", "sin", "sjc", "syd", "waw", "yul", "yyz",
}
