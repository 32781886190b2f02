// Package ip is the flyio:index:IPAddress resource: a public or private
// (Flycast) address assigned to a Fly app.
package ip

import (
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// IPAddress is the controller of the IPAddress resource.
type IPAddress struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// IPType is the kind of address to assign.
type IPType string

// The address kinds Fly assigns.
const (
	V4        IPType = "v4"
	V6        IPType = "v6"
	SharedV4  IPType = "shared_v4"
	PrivateV6 IPType = "private_v6"
)

// Values lists the IPType enum for the schema.
func (IPType) Values() []infer.EnumValue[IPType] {
	return []infer.EnumValue[IPType]{
		{Name: "V4", Value: V4, Description: "A dedicated public IPv4 address (billed)."},
		{Name: "V6", Value: V6, Description: "A dedicated public IPv6 address."},
		{Name: "SharedV4", Value: SharedV4, Description: "The public IPv4 address the app shares with other apps."},
		{Name: "PrivateV6", Value: PrivateV6, Description: "A private Flycast IPv6 address, reachable only inside the organization's network."},
	}
}

// Args are the IPAddress inputs.
type Args struct {
	App         string `pulumi:"app"`
	Type        IPType `pulumi:"type"`
	Region      string `pulumi:"region,optional"`
	Network     string `pulumi:"network,optional"`
	ServiceName string `pulumi:"serviceName,optional"`
}

// State is what an IPAddress records in Pulumi state.
type State struct {
	Args
	Address string `pulumi:"address"`
}

// Annotate documents the resource.
func (r *IPAddress) Annotate(a infer.Annotator) {
	a.Describe(&r, "An IP address assigned to a Fly app. Its resource ID is the address itself; import with "+
		"`<app>/<address>` (`pulumi import flyio:index:IPAddress v6 my-app/2a09:8280:1::1`), which also adopts "+
		"addresses `fly deploy` allocated, including the shared IPv4. Any change assigns a new address. Deleting "+
		"releases the address; one that is already released is not an error.")
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.App, "Name of the app the address is assigned to.")
	an.Describe(&a.Type, "Kind of address.")
	an.Describe(&a.Region, "Region of a dedicated address; unset means global (anycast).")
	an.Describe(&a.Network, "For `private_v6` only: the app network the Flycast address lives on; unset means the "+
		"organization's default network.")
	an.Describe(&a.ServiceName, "Name of the service the address is for, when the app has several.")
}

// Annotate documents the outputs.
func (s *State) Annotate(a infer.Annotator) {
	a.Describe(&s.Address, "The assigned address, the same as the resource ID.")
}
