package stack

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Reader parses a stack's raw settings, applying their declared defaults,
// and collects one message per bad value, each naming the key, the value
// and the fix. Backends read their own settings with it, so every problem
// of a stack is reported at once.
type Reader struct {
	raw      Raw
	settings map[string]Setting
	problems []string
	bad      map[string]bool
}

func newReader(raw Raw, settings []Setting) *Reader {
	r := &Reader{raw: raw, settings: map[string]Setting{}, bad: map[string]bool{}}
	for _, s := range settings {
		r.settings[s.Key] = s
	}
	return r
}

// Stack is the stack's name, or "<stack>" when unknown, for fixes.
func (r *Reader) Stack() string { return cmp.Or(r.raw.Stack, "<stack>") }

// Fail records a problem as "emothe:key = value what is wrong; fix: how".
// A secret setting's value is never shown.
func (r *Reader) Fail(key, value, problem, fix string) {
	shown := fmt.Sprintf("%q", value)
	if r.setting(key).Secret {
		shown = "[secret]"
	}
	r.problem(key, fmt.Sprintf("%s:%s = %s %s; fix: %s", Namespace, key, shown, problem, fix))
}

// Missing records a required setting that is empty.
func (r *Reader) Missing(key, why, fix string) {
	r.problem(key, fmt.Sprintf("%s:%s is %s; fix: %s", Namespace, key, why, fix))
}

func (r *Reader) problem(key, msg string) {
	r.bad[key] = true
	r.problems = append(r.problems, msg)
}

// Bad reports whether a problem was recorded for any of keys: a rule that
// spans settings stays quiet when one of them is already reported, so a
// consequence is never piled onto its cause.
func (r *Reader) Bad(keys ...string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return r.bad[k] })
}

// Failed reports whether any problem was recorded.
func (r *Reader) Failed() bool { return len(r.problems) > 0 }

func (r *Reader) err() error {
	if !r.Failed() {
		return nil
	}
	return &ConfigError{Problems: r.problems}
}

func (r *Reader) setting(key string) Setting {
	s, ok := r.settings[key]
	if !ok {
		panic("stack: undeclared setting " + key) // a programming error, caught by tests
	}
	return s
}

// Get returns the value of key, or its declared default.
func (r *Reader) Get(key string) string {
	s := r.setting(key)
	if v, ok := r.raw.Values[key]; ok {
		if !s.Secret && r.raw.Secrets[key] {
			// A non-secret setting held as a secret is harmless; the reverse is not.
			return v
		}
		return strings.TrimSpace(v)
	}
	return s.Default
}

// Input returns a declared input's value (see Input).
func (r *Reader) Input(key string) string { return r.raw.Inputs[key] }

// set is the fix that sets key to example.
func set(key string, example any) string {
	return fmt.Sprintf("pulumi config set %s:%s %v", Namespace, key, example)
}

// OneOf reads a string that must be one of allowed, in any case.
func (r *Reader) OneOf(key string, allowed ...string) string {
	v := r.Get(key)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.Fail(key, v, "is not one of "+strings.Join(allowed, ", "), set(key, allowed[0]))
	return v
}

// Integer reads a whole number from lo to hi.
func (r *Reader) Integer(key string, lo, hi int) int {
	v := r.Get(key)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.Fail(key, v, fmt.Sprintf("is not a whole number from %d to %d", lo, hi), set(key, max(lo, 1)))
	}
	return n
}

// OneOfInt reads a whole number that must be one of allowed.
func (r *Reader) OneOfInt(key string, allowed ...int) int {
	v := r.Get(key)
	n, err := strconv.Atoi(v)
	if err != nil || !slices.Contains(allowed, n) {
		r.Fail(key, v, fmt.Sprintf("is not one of %v", allowed), set(key, allowed[0]))
	}
	return n
}

// Boolean reads true or false: the CLI no longer checks it (see Kind).
func (r *Reader) Boolean(key string) bool {
	v := r.Get(key)
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.Fail(key, v, "is not true or false", set(key, true)+" (or false)")
	}
	return b
}

// Secret reads a secret setting and refuses one stored in plain text: it
// would sit readable in Pulumi.<stack>.yaml and in the repository.
func (r *Reader) Secret(key string) Secret {
	r.setting(key)
	v, ok := r.raw.Values[key]
	if !ok || v == "" {
		return Secret{}
	}
	if !r.raw.Secrets[key] {
		r.problem(key, fmt.Sprintf(
			"%s:%s is stored in plain text; fix: pulumi config rm %s:%s && pulumi config set --secret %s:%s <value> (and rotate it: it may already be committed)",
			Namespace, key, Namespace, key, Namespace, key))
		return Secret{}
	}
	return Secret{value: v}
}

// Require records a required secret that is not set, with the commands
// that set it; what says what it is for.
func (r *Reader) Require(key string, s Secret, what string) {
	if s.Set() || r.Bad(key) {
		return
	}
	r.Missing(key, "not set; it is "+what,
		fmt.Sprintf("make secrets STACK=%s generates it, or pulumi config set --secret %s:%s <value> --stack %s",
			r.Stack(), Namespace, key, r.Stack()))
}

var appNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)

// appName reads a name Fly and Docker both accept.
func (r *Reader) appName(key string) string {
	v := r.Get(key)
	if v != "" && (!appNameRE.MatchString(v) || strings.Contains(v, "--")) {
		r.Fail(key, v, "is not a valid app name (3-63 lowercase letters, digits and single hyphens, starting with a letter)",
			set(key, "emothe-"+cmp.Or(r.raw.Stack, "dev")))
	}
	return v
}

// imageRE accepts a reference with a tag or a digest: an untagged name
// would float to whatever "latest" is at deploy time.
var imageRE = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-z0-9]+)*(/[a-z0-9._-]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

// ImageRef reads an image reference; example goes into the fix.
func (r *Reader) ImageRef(key, example string) string {
	v := r.Get(key)
	if v == "" {
		return v
	}
	last := v[strings.LastIndex(v, "/")+1:]
	if !imageRE.MatchString(v) || !(strings.Contains(last, ":") || strings.Contains(v, "@sha256:")) {
		r.Fail(key, v, "is not an image reference with a tag or digest", set(key, example))
	}
	return v
}

var hostnameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

func (r *Reader) hostname(key string) string {
	v := strings.ToLower(r.Get(key))
	if v != "" && !hostnameRE.MatchString(v) {
		r.Fail(key, v, "is not a DNS hostname", set(key, "emothe.example.org"))
	}
	return v
}

// memory reads a size in 256 MB steps, the unit Fly sizes machines in.
func (r *Reader) memory(key string) int {
	v := r.Get(key)
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n%256 != 0 {
		r.Fail(key, v, "is not a positive multiple of 256 (memory is sized in 256 MB steps)", set(key, 512))
	}
	return n
}
