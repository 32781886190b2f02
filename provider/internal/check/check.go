// Package check holds the input validation helpers every resource's Check
// uses, so bad input fails the same way everywhere: the property name, the bad
// value and the fix.
package check

import (
	"fmt"
	"regexp"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// Failures collects check failures for one resource.
type Failures []p.CheckFailure

// Addf records a failure on property prop.
func (f *Failures) Addf(prop, format string, args ...any) {
	*f = append(*f, p.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)})
}

// Known reports whether the input prop has a known value. During preview an
// input can be the unknown output of another resource; it decodes as the zero
// value, which must not be mistaken for bad input.
func Known(inputs property.Map, prop string) bool {
	v, ok := inputs.GetOk(prop)
	return !ok || !v.HasComputed()
}

// The shapes of Fly's names, for every resource's Check: the one place
// these rules are written in the provider.
var (
	// dnsLabel is what Fly accepts for app and cluster names, and what DNS
	// accepts for <name>.fly.dev: lower-case letters, digits and inner dashes.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// RegionCode is a Fly region, such as ams.
	RegionCode = regexp.MustCompile(`^[a-z]{3}$`)
	// VolumeName is what Fly accepts as a volume's name.
	VolumeName = regexp.MustCompile(`^[A-Za-z0-9_]{1,30}$`)
	// EnvName is a secret or env name that becomes an environment variable.
	EnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Name validates the name of an app or cluster held in prop.
func (f *Failures) Name(inputs property.Map, prop, name string) {
	if Known(inputs, prop) && !dnsLabel.MatchString(name) {
		f.Addf(prop, "%s %q is not a valid name: use 1-63 lower-case letters, digits and dashes, "+
			"starting and ending with a letter or digit (e.g. %q)", prop, name, "my-app")
	}
}

// Region validates a Fly region code held in prop.
func (f *Failures) Region(inputs property.Map, prop, region string) {
	if Known(inputs, prop) && !RegionCode.MatchString(region) {
		f.Addf(prop, "%s %q is not a Fly region code: use a three-letter code such as %q (see `fly platform regions`)",
			prop, region, "ams")
	}
}

// OneOf fails when the known string input prop is not one of allowed.
func (f *Failures) OneOf(inputs property.Map, prop, value string, allowed ...string) {
	if !Known(inputs, prop) {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	f.Addf(prop, "%s %q is not supported: use one of %q", prop, value, allowed)
}
