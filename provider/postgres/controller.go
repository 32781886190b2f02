package postgres

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/internal/check"
	"github.com/emothe/emothe/provider/internal/crud"
	"github.com/emothe/emothe/provider/internal/diff"
)

var (
	_ infer.CustomCheck[Args]                 = (*ManagedPostgres)(nil)
	_ infer.CustomDiff[Args, State]           = (*ManagedPostgres)(nil)
	_ infer.CustomRead[Args, State]           = (*ManagedPostgres)(nil)
	_ infer.CustomUpdate[Args, State]         = (*ManagedPostgres)(nil)
	_ infer.CustomDelete[State]               = (*ManagedPostgres)(nil)
	_ infer.ExplicitDependencies[Args, State] = (*ManagedPostgres)(nil)
	_ infer.CustomResource[Args, State]       = (*ManagedPostgres)(nil)
)

const (
	// readyTimeout bounds provisioning, which takes minutes on Fly.
	readyTimeout = 30 * time.Minute
	// Every MPG cluster is created with this admin user and database.
	user     = "fly-user"
	database = "fly-db"
)

var plans = []string{"basic", "starter", "launch", "scale", "performance"}

// Check validates the inputs and fills org from the provider's default.
func (*ManagedPostgres) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[Args], error) {
	in, failures, err := infer.DefaultCheck[Args](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[Args]{Inputs: in, Failures: failures}, err
	}
	known := func(prop string) bool { return check.Known(req.NewInputs, prop) }
	var f check.Failures
	f.Name(req.NewInputs, "name", in.Name)
	f.Region(req.NewInputs, "region", in.Region)
	if known("plan") && !slices.Contains(plans, strings.ToLower(in.Plan)) {
		f.Addf("plan", "plan %q is not a Managed Postgres plan: use one of %q", in.Plan, plans)
	}
	if known("diskSizeGb") && in.DiskSizeGB < 1 {
		f.Addf("diskSizeGb", "diskSizeGb %d is not a size: use a positive number of GB, e.g. 10", in.DiskSizeGB)
	}
	f.OneOf(req.NewInputs, "pgMajorVersion", in.PgMajorVersion, "16", "17")
	if in.PoolMode != "" {
		f.OneOf(req.NewInputs, "poolMode", in.PoolMode, "session", "transaction")
	}
	if known("attachApps") {
		for i, app := range in.AttachApps {
			f.Name(req.NewInputs, fmt.Sprintf("attachApps[%d]", i), app)
		}
	}
	if in.Org == "" && known("org") {
		in.Org = config.Org(ctx)
	}
	return infer.CheckResponse[Args]{Inputs: in, Failures: f}, nil
}

// Diff replaces on anything but attachments, which change in place. The old
// cluster goes first when the name stays, so the names never clash.
func (*ManagedPostgres) Diff(_ context.Context, req infer.DiffRequest[Args, State]) (infer.DiffResponse, error) {
	in, old := req.Inputs, req.State
	var d diff.Builder
	d.Replace("name", in.Name != old.Name)
	d.Replace("org", in.Org != old.Org)
	d.Replace("region", in.Region != old.Region)
	d.Replace("plan", !strings.EqualFold(in.Plan, old.Plan))
	d.Replace("diskSizeGb", in.DiskSizeGB != old.DiskSizeGB)
	d.Replace("pgMajorVersion", in.PgMajorVersion != old.PgMajorVersion)
	d.Replace("poolMode", in.PoolMode != old.PoolMode)
	d.Update("attachApps", !sameSet(in.AttachApps, old.AttachApps))
	return d.Response(in.Name == old.Name && in.Org == old.Org), nil
}

// WireDependencies keeps the cluster's outputs known in previews that only
// change attachments.
func (*ManagedPostgres) WireDependencies(f infer.FieldSelector, args *Args, state *State) {
	cluster := []infer.InputField{
		f.InputField(&args.Name), f.InputField(&args.Org), f.InputField(&args.Region), f.InputField(&args.Plan),
		f.InputField(&args.DiskSizeGB), f.InputField(&args.PgMajorVersion), f.InputField(&args.PoolMode),
	}
	for _, out := range []any{&state.ClusterID, &state.Status, &state.PoolerHost, &state.DirectHost,
		&state.User, &state.Database, &state.ConnectionURI, &state.DirectURI} {
		f.OutputField(out).DependsOn(cluster...)
	}
}

// Create provisions the cluster, waits until it is ready and attaches the
// apps. A cluster that does not become ready is still recorded (as a
// partially initialized resource), so the next `up` resumes waiting instead
// of provisioning a second one.
func (r *ManagedPostgres) Create(ctx context.Context, req infer.CreateRequest[Args]) (infer.CreateResponse[State], error) {
	return crud.Create(ctx, r.Fly, req, func(in Args) infer.CreateResponse[State] {
		return infer.CreateResponse[State]{Output: State{Args: in}}
	}, create)
}

func create(ctx context.Context, client fly.Client, in Args) (infer.CreateResponse[State], error) {
	created, err := client.CreatePostgres(ctx, fly.CreatePostgresRequest{
		OrgSlug:        in.Org,
		Region:         in.Region,
		Plan:           strings.ToLower(in.Plan),
		Name:           in.Name,
		DiskSizeGB:     in.DiskSizeGB,
		PgMajorVersion: in.PgMajorVersion,
		PoolMode:       in.PoolMode,
	})
	if err != nil {
		return infer.CreateResponse[State]{}, fmt.Errorf("creating Managed Postgres cluster %q in %s: %w", in.Name, in.Region, err)
	}
	s, err := converge(ctx, client, created, in, nil)
	if err != nil {
		return infer.CreateResponse[State]{ID: created.ID, Output: s}, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.CreateResponse[State]{ID: created.ID, Output: s}, nil
}

// Update attaches and detaches apps, and finishes a create that did not
// reach ready.
func (r *ManagedPostgres) Update(ctx context.Context, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	return crud.Update(ctx, r.Fly, req, State.withInputs, update)
}

// withInputs is the preview of an update: the outputs it cannot change stay known.
func (s State) withInputs(in Args) State {
	s.Args = in
	return s
}

func update(ctx context.Context, client fly.Client, req infer.UpdateRequest[Args, State]) (infer.UpdateResponse[State], error) {
	s, err := converge(ctx, client, fly.PostgresCluster{ID: req.ID}, req.Inputs, req.State.AttachApps)
	if err != nil {
		return infer.UpdateResponse[State]{Output: s}, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.UpdateResponse[State]{Output: s}, nil
}

// Read reads the cluster by ID, for refresh and import.
func (r *ManagedPostgres) Read(ctx context.Context, req infer.ReadRequest[Args, State]) (infer.ReadResponse[Args, State], error) {
	return crud.Read(ctx, r.Fly, func(ctx context.Context, client fly.Client) (infer.ReadResponse[Args, State], error) {
		c, err := client.GetPostgres(ctx, req.ID)
		if err != nil {
			return infer.ReadResponse[Args, State]{}, fmt.Errorf("reading Managed Postgres cluster %s: %w", req.ID, err)
		}
		in := inputs(req.Inputs, c)
		s := state(in, c)
		if c.Status == "ready" {
			if s, err = withCredentials(ctx, client, s, c); err != nil {
				return infer.ReadResponse[Args, State]{}, err
			}
		}
		return infer.ReadResponse[Args, State]{ID: req.ID, Inputs: in, State: s}, nil
	})
}

// Delete deletes the cluster; one that is already gone is fine. Pulumi's
// retainOnDelete and protect keep this from being called when they are set.
func (r *ManagedPostgres) Delete(ctx context.Context, req infer.DeleteRequest[State]) (infer.DeleteResponse, error) {
	return crud.Delete(ctx, r.Fly, func(ctx context.Context, client fly.Client) error {
		if err := client.DeletePostgres(ctx, req.ID); err != nil {
			return fmt.Errorf("deleting Managed Postgres cluster %s: %w%s", req.ID, err,
				byHand(err, "`fly mpg destroy "+req.ID+"`, then drop it from the stack with `pulumi state delete <urn>`"))
		}
		return nil
	})
}

// converge waits for the cluster c (as last seen) to be ready, brings its
// attachments from attached to in.AttachApps, and returns the state with
// credentials. On failure the returned state is as much as is known.
func converge(ctx context.Context, client fly.Client, c fly.PostgresCluster, in Args, attached []string) (State, error) {
	id := c.ID
	var err error
	if c.Status != "ready" { // a create may answer ready already: no need to ask again
		c, err = client.WaitPostgresReady(fly.WithProgress(ctx, p.GetLogger(ctx).InfoStatus), id, readyTimeout)
	}
	s := state(in, c)
	s.ClusterID = id
	s.AttachApps = slices.Clone(attached)
	if err != nil {
		return s, fmt.Errorf("waiting for Managed Postgres cluster %s to be ready: %w", id, err)
	}
	// The credentials do not wait for the attachments, Fly's record of who
	// uses the cluster: the app's secrets, next, wait for both.
	var (
		withCreds State
		credsErr  error
		fetched   = make(chan struct{})
	)
	go func() {
		defer close(fetched)
		withCreds, credsErr = withCredentials(ctx, client, s, c)
	}()
	s.AttachApps, err = reattach(ctx, client, id, in.AttachApps, attached)
	<-fetched
	if err == nil {
		err = credsErr
	}
	s.ConnectionURI, s.DirectURI = withCreds.ConnectionURI, withCreds.DirectURI
	return s, err
}

// reattach brings the cluster's attachments from attached to want. It
// returns the attachments made: want, in the program's order, or those
// made before a failure.
func reattach(ctx context.Context, client fly.Client, id string, want, attached []string) ([]string, error) {
	logger := p.GetLogger(ctx)
	now := slices.Clone(attached)
	for _, app := range want {
		if slices.Contains(attached, app) {
			continue
		}
		logger.InfoStatusf("attaching app %q", app)
		err := client.AttachPostgres(ctx, id, app)
		switch {
		case fly.Refused(err):
			// The attachment is Fly's bookkeeping (the app gets its URL
			// from its secrets), so like flyctl this only warns.
			logger.Warningf("attaching app %q to Managed Postgres cluster %s: %v%s", app, id, err,
				byHand(err, fmt.Sprintf("`fly mpg attach %s --app %s`", id, app)))
		case err != nil:
			return now, fmt.Errorf("attaching app %q to Managed Postgres cluster %s: %w", app, id, err)
		}
		now = append(now, app)
	}
	for _, app := range attached {
		if slices.Contains(want, app) {
			continue
		}
		logger.InfoStatusf("detaching app %q", app)
		if err := client.DetachPostgres(ctx, id, app); err != nil {
			return now, fmt.Errorf("detaching app %q from Managed Postgres cluster %s: %w", app, id, err)
		}
		now = slices.DeleteFunc(now, func(a string) bool { return a == app })
	}
	return want, nil
}

// inputs are the inputs as Fly reports them, in the program's spelling where
// Fly's differs only in form (plan case, attachment order) or says nothing
// (pool mode, which the documented Cluster lacks, and empty fields).
func inputs(prev Args, c fly.PostgresCluster) Args {
	in := Args{
		Name:           cmp.Or(c.Name, prev.Name),
		Org:            cmp.Or(c.Organization.Slug, prev.Org),
		Region:         cmp.Or(c.Region, prev.Region),
		Plan:           cmp.Or(c.Plan, prev.Plan),
		DiskSizeGB:     cmp.Or(c.DiskSizeGB, prev.DiskSizeGB),
		PgMajorVersion: cmp.Or(c.PgMajorVersion, prev.PgMajorVersion),
		PoolMode:       prev.PoolMode,
	}
	if strings.EqualFold(prev.Plan, c.Plan) {
		in.Plan = prev.Plan
	}
	if prev.Org == fly.PersonalOrg { // the alias, which Fly reports resolved
		in.Org = prev.Org
	}
	for _, a := range c.AttachedApps {
		in.AttachApps = append(in.AttachApps, a.Name)
	}
	if sameSet(prev.AttachApps, in.AttachApps) {
		in.AttachApps = prev.AttachApps
	}
	return in
}

func state(in Args, c fly.PostgresCluster) State {
	return State{
		Args:       in,
		ClusterID:  c.ID,
		Status:     c.Status,
		PoolerHost: c.Endpoints.Primary.Pooler.Host,
		DirectHost: c.Endpoints.Primary.Direct.Host,
		User:       user,
		Database:   database,
	}
}

// withCredentials fetches the admin user's password and builds the URIs.
func withCredentials(ctx context.Context, client fly.Client, s State, c fly.PostgresCluster) (State, error) {
	creds, err := client.PostgresCredentials(ctx, s.ClusterID, user)
	if err != nil {
		// %v, not %w: a 404 here is about the user, and must not read as
		// the cluster being gone (crud.Read would drop it from the stack).
		return s, fmt.Errorf("reading the credentials of Managed Postgres cluster %s: %v", s.ClusterID, err)
	}
	s.ConnectionURI = uri(creds, c.Endpoints.Primary.Pooler)
	s.DirectURI = uri(creds, c.Endpoints.Primary.Direct)
	return s, nil
}

func uri(creds fly.PostgresCredentials, ep fly.PostgresHostPort) string {
	host := ep.Host
	if ep.Port != 0 && ep.Port != 5432 {
		host = net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
	}
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(creds.Username, creds.Password), Host: host, Path: "/" + database}
	return u.String()
}

// byHand tells what to run instead when Fly's API refused a call, and is
// empty for any other error.
func byHand(err error, command string) string {
	if !fly.Refused(err) {
		return ""
	}
	return "; Fly's Machines API does not serve this call for Managed Postgres (flyctl uses another API), " +
		"so do it by hand: " + command
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
