// Package config is the flyio provider's configuration (`flyio:token`,
// `flyio:org`, `flyio:apiUrl`) and the factory that builds a Fly client from
// it. It is its own package so resource packages can read it without
// importing the provider package that registers them.
package config

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/internal/diff"
)

// Defaults and the environment variables that stand in for unset settings.
const (
	DefaultOrg    = fly.PersonalOrg
	DefaultAPIURL = fly.DefaultBaseURL
	EnvToken      = "FLY_API_TOKEN"
	EnvAPIURL     = fly.EnvBaseURL
)

// userAgent names the provider to Fly.
const userAgent = "pulumi-resource-flyio"

// Factory builds the Fly client of one resource operation from the
// configured settings. Each resource controller holds the factory it was
// built with (see provider.New): the plugin's is FlyClient, a test's points
// at its own fake, so tests build providers side by side and run in parallel.
type Factory func(ctx context.Context, c Config) (fly.Client, error)

// Client builds the client from the provider's settings in ctx.
func (f Factory) Client(ctx context.Context) (fly.Client, error) {
	return f(ctx, infer.GetConfig[Config](ctx))
}

// FlyClient is the factory of the real provider: a client for c.APIURL with
// c.Token, or ErrNoToken.
func FlyClient(_ context.Context, c Config) (fly.Client, error) {
	if c.Token == "" {
		return nil, ErrNoToken
	}
	return fly.New(fly.Config{Token: c.Token, BaseURL: c.APIURL, UserAgent: userAgent})
}

// ErrNoToken is returned to any resource operation that needs the Fly API when
// no token is configured.
var ErrNoToken = errors.New("no Fly API token: set the provider setting flyio:token " +
	"(pulumi config set --secret flyio:token \"$(fly tokens create deploy)\") " +
	"or the " + EnvToken + " environment variable; `fly tokens create deploy` prints a deploy token " +
	"and it is accepted as printed (FlyV1 fm2_…)")

// Config is the provider configuration.
//
// A missing token is not a configuration error: Configure only warns, so
// `pulumi preview` (which never calls Fly) works without credentials, e.g. on
// forks in CI. Operations that call Fly (create, update, delete, refresh,
// import) then fail with ErrNoToken.
type Config struct {
	Token  string `pulumi:"token,optional" provider:"secret"`
	Org    string `pulumi:"org,optional"`
	APIURL string `pulumi:"apiUrl,optional"`
}

// Annotate documents the settings and their defaults for the schema.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.Token, "Fly.io API token, e.g. the output of `fly tokens create deploy` "+
		"(`FlyV1 fm2_…`, accepted as printed). Defaults to the "+EnvToken+" environment variable. "+
		"Only operations that call Fly need it: preview works without one.")
	a.SetDefault(&c.Token, nil, EnvToken)
	a.Describe(&c.Org, "Default organization slug for resources that do not set `org`.")
	a.SetDefault(&c.Org, DefaultOrg)
	a.Describe(&c.APIURL, "Base URL of the Fly Machines API, without /v1. Defaults to "+EnvAPIURL+
		" when set (e.g. to point at a local fake), else "+DefaultAPIURL+".")
	a.SetDefault(&c.APIURL, DefaultAPIURL, EnvAPIURL)
}

// Configure fills the defaults and validates the settings, so a bad URL or
// token fails once, here, rather than in every resource operation.
func (c *Config) Configure(ctx context.Context) error {
	c.Org = cmp.Or(c.Org, DefaultOrg)
	c.APIURL = cmp.Or(c.APIURL, DefaultAPIURL)
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("flyio:apiUrl %q is not an http(s) URL: set it to e.g. %q, or unset it to use the default",
			c.APIURL, DefaultAPIURL)
	}
	if c.Token == "" {
		p.GetLogger(ctx).Warning(ErrNoToken.Error() + ". Preview makes no Fly API calls; anything else will fail.")
		return nil
	}
	if _, err := FlyClient(ctx, *c); err != nil {
		return fmt.Errorf("configuring the Fly client: %w", err)
	}
	return nil
}

// Diff never replaces the provider. infer's default replaces it on any
// change, and the engine then replaces every resource the provider manages:
// rotating the token would recreate databases. A new token, API URL or
// default org applies in place; resources that took the default org keep it
// in their own inputs, and their own Diff decides about replacing them.
func (c *Config) Diff(_ context.Context, req infer.DiffRequest[*Config, *Config]) (infer.DiffResponse, error) {
	var d diff.Builder
	d.Update("token", req.Inputs.Token != req.State.Token)
	d.Update("org", req.Inputs.Org != req.State.Org)
	d.Update("apiUrl", req.Inputs.APIURL != req.State.APIURL)
	return d.Response(false), nil
}

// Org is the default organization for resources that do not set one.
func Org(ctx context.Context) string {
	return cmp.Or(infer.GetConfig[Config](ctx).Org, DefaultOrg)
}
