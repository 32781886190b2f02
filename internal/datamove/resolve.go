package datamove

import (
	"cmp"
	"fmt"
	"net/url"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/infra/compose"
	flyinfra "github.com/emothe/emothe/infra/fly"
	"github.com/emothe/emothe/infra/postgres"
	"github.com/emothe/emothe/infra/stack"
)

// Provider settings a Fly endpoint reads from raw.Inputs (the caller fills
// them from FLY_API_TOKEN and FLY_FLAPS_BASE_URL when the stack sets none).
const (
	apiURLKey = "flyio:apiUrl"
	tokenKey  = "flyio:token"
)

// State is what Resolve needs from a stack's state.
type State struct {
	// Deployed is true once an `up` has recorded the stack's outputs.
	Deployed bool
	// Cluster and ClusterURL are a Managed Postgres cluster's ID and
	// direct connection URL (the ManagedPostgres resource's outputs).
	Cluster    string
	ClusterURL stack.Secret
}

// Resolve decides how to reach stack name's database from its
// configuration (raw, with the Fly provider's token and API URL in
// raw.Inputs when it has them) and its state. It refuses a stack with a
// bad configuration, one not deployed, and one whose database move-data
// cannot reach, saying why.
func Resolve(name string, raw stack.Raw, st State) (Endpoint, error) {
	backend := cmp.Or(raw.Values["backend"], infra.Backends[0].Name)
	e := Endpoint{Stack: name, Backend: backend}
	switch backend {
	case compose.Platform.Name:
		c, err := compose.Load(raw)
		if err != nil {
			return e, fmt.Errorf("stack %s: %w", name, err)
		}
		if c.DatabaseURL.Set() {
			return e, fmt.Errorf("stack %s's database is external (emothe:databaseUrl), not a container of the stack: move-data reaches only a stack's own Postgres; "+
				"nothing was changed; fix: copy it with pg_dump and pg_restore against its provider (docs/backups.md)", name)
		}
		e.App, e.Compose = c.AppName, &ComposeDatabase{DockerHost: c.DockerHost}
	case flyinfra.Platform.Name:
		c, err := flyinfra.Load(raw)
		if err != nil {
			return e, fmt.Errorf("stack %s: %w", name, err)
		}
		e.App = c.AppName
		f := &FlyDatabase{API: FlyAPI{BaseURL: raw.Inputs[apiURLKey], Token: stack.NewSecret(raw.Inputs[tokenKey])}}
		if !f.API.Token.Set() {
			return e, fmt.Errorf("stack %s runs on Fly: move-data stops and starts its app's machines through the Machines API, which needs a token; "+
				"nothing was changed; fix: export %s=\"$(fly tokens create deploy -a %s)\", or pulumi config set --secret %s … --stack %s",
				name, flyinfra.EnvToken, c.AppName, tokenKey, name)
		}
		if db := flyinfra.NewPlan(c).Database.Machine; db != nil {
			// The self-run Postgres: its owner, database and password are
			// the stack's own; the official image serves no TLS.
			f.Machine, f.Host = db.App, db.Host
			f.User, f.Password, f.Name, f.SSLMode = postgres.User, c.DatabasePassword, postgres.Database, "disable"
		} else {
			if st.Cluster == "" || !st.ClusterURL.Set() {
				return e, noDatabase(name)
			}
			u, err := url.Parse(st.ClusterURL.Value())
			if err != nil || u.User == nil {
				return e, fmt.Errorf("stack %s: the Managed Postgres cluster's direct URL in the state is not a postgres://user:password@host/db URL; nothing was changed", name)
			}
			password, _ := u.User.Password()
			f.Cluster = st.Cluster
			f.User, f.Password, f.Name = u.User.Username(), stack.NewSecret(password), u.Path[min(1, len(u.Path)):]
			f.SSLMode = u.Query().Get("sslmode")
		}
		e.Fly = f
	default:
		return e, fmt.Errorf("stack %s: emothe:backend %q is not one move-data knows (compose or fly)", name, backend)
	}
	if !st.Deployed {
		return e, noDatabase(name)
	}
	return e, nil
}

func noDatabase(name string) error {
	return fmt.Errorf("stack %s has no database yet (no `up` has recorded its outputs); nothing was changed; fix: bring it up first with `make up STACK=%s`", name, name)
}
