package stack

import (
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Platform is one backend, declared in its own folder.
type Platform struct {
	// Name is its emothe:backend value.
	Name string
	// About says what it deploys to, for emothe:backend's description.
	About string
	// Settings are the settings only this backend reads.
	Settings []Setting
	// Inputs are what it reads from outside its settings.
	Inputs []Input
	// Runbook is the doc that takes a protected stack down (RefuseDestroy).
	Runbook string
	// RetainsData is true of a backend whose protected data outlives a
	// destroy on its own (retainOnDelete): its destroy removes everything
	// else and is not refused.
	RetainsData bool
	// SwitchFirst names what a switch to this backend (`make switch`)
	// creates before the data moves in, while the old backend still
	// serves: the database and what it needs, and the image, none of which
	// serves users. They are URN globs for `pulumi up --target` (`*`
	// matches within a part of the URN, `**` across parts), given
	// emothe:appName.
	SwitchFirst func(appName string) []string
	// Owns names every resource the backend registers, as URN globs like
	// SwitchFirst's: a switch to this backend creates them all (the app
	// included) before anything of the old backend is deleted.
	Owns func(appName string) []string
	// OwnImage says why image reference ref, on a stack of this backend
	// whose settings (by key without the namespace) are values, runs on
	// this backend alone, or "" when another backend can pull it too: a
	// switch away drops such a pin.
	OwnImage func(ref string, values map[string]string) string
	// Load reads the backend's settings with r, validates them against
	// cfg, recording every problem in r, and plans the deployment. It
	// registers nothing; its Deployer does, and only for a stack without
	// problems.
	Load func(r *Reader, cfg *Config) Deployer
}

// Registry is the implemented backends; the first is the default.
type Registry []Platform

// Loaded is a stack's validated configuration and its planned deployment.
type Loaded struct {
	Config *Config
	Deploy Deployer
}

func (g Registry) names() []string {
	names := make([]string, len(g))
	for i, p := range g {
		names[i] = p.Name
	}
	return names
}

// Settings are every setting of the project: the shared ones, then each
// backend's.
func (g Registry) Settings() []Setting {
	out := make([]Setting, 0, len(Settings))
	for _, s := range Settings {
		if s.Key == backendKey {
			s.Default = g[0].Name
			s.Description = "Where Emothe runs: " + g.choices() + "."
		}
		out = append(out, s)
	}
	for _, p := range g {
		out = append(out, p.Settings...)
	}
	return out
}

// choices lists the backends as "a (about), b (about) or c (about)".
func (g Registry) choices() string {
	parts := make([]string, len(g))
	for i, p := range g {
		parts[i] = fmt.Sprintf("%s (%s)", p.Name, p.About)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// Load validates raw: the shared settings, then the selected backend's
// alone. Every problem is reported at once, before anything is registered.
func (g Registry) Load(raw Raw) (*Loaded, error) {
	l := &Loaded{}
	cfg, err := g.read(raw, func(r *Reader, p Platform, cfg *Config) { l.Deploy = p.Load(r, cfg) })
	if err != nil {
		return nil, err
	}
	l.Config = cfg
	return l, nil
}

// read reads the shared settings, then hands the selected backend to own.
func (g Registry) read(raw Raw, own func(*Reader, Platform, *Config)) (*Config, error) {
	r := newReader(raw, g.Settings())
	cfg := readShared(r, g.names())
	for _, p := range g {
		if p.Name == cfg.Backend && !r.Bad(backendKey) {
			own(r, p, cfg)
		}
	}
	return cfg, r.err()
}

// LoadBackend reads raw for the one backend p with read, its own reader:
// for tests and tools that need the backend's configuration itself.
func LoadBackend[T any](raw Raw, p Platform, read func(*Reader, *Config) T) (T, error) {
	var own T
	_, err := Registry{p}.read(raw, func(r *Reader, _ Platform, cfg *Config) { own = read(r, cfg) })
	return own, err
}

// FromContext reads the stack's settings and the backends' inputs from
// the Pulumi engine and the environment, and loads them.
func (g Registry) FromContext(ctx *pulumi.Context) (*Loaded, error) {
	raw := Raw{Stack: ctx.Stack(), Values: map[string]string{}, Secrets: map[string]bool{}, Inputs: map[string]string{}}
	for _, s := range g.Settings() {
		full := Namespace + ":" + s.Key
		if v, ok := ctx.GetConfig(full); ok {
			raw.Values[s.Key] = v
			raw.Secrets[s.Key] = ctx.IsConfigSecret(full)
		}
	}
	for _, p := range g {
		for _, in := range p.Inputs {
			v, ok := ctx.GetConfig(in.Key)
			if !ok || v == "" {
				v = os.Getenv(in.Env)
			}
			raw.Inputs[in.Key] = v
		}
	}
	return g.Load(raw)
}
