// Package certificate is the flyio:index:Certificate resource: a custom
// hostname on a Fly app with a Let's Encrypt (ACME) certificate.
package certificate

import (
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// Certificate is the controller of the Certificate resource.
type Certificate struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// Args are the Certificate inputs.
type Args struct {
	App      string `pulumi:"app"`
	Hostname string `pulumi:"hostname"`
}

// State is what a Certificate records in Pulumi state.
type State struct {
	Args
	Status     string      `pulumi:"status"`
	Configured bool        `pulumi:"configured"`
	DNSRecords []DNSRecord `pulumi:"dnsRecords"`
}

// DNSRecord is one record to create at the hostname's DNS provider.
type DNSRecord struct {
	Type    string `pulumi:"type"`
	Name    string `pulumi:"name"`
	Value   string `pulumi:"value"`
	Purpose string `pulumi:"purpose"`
}

// Record purposes.
const (
	PurposeRouting       = "routing"
	PurposeAcmeChallenge = "acme-challenge"
	PurposeOwnership     = "ownership"
)

// Annotate documents the resource.
func (c *Certificate) Annotate(a infer.Annotator) {
	a.Describe(&c, "A custom hostname on a Fly app, with a certificate Fly obtains from Let's Encrypt. "+
		"Its resource ID is the hostname; import with `<app>/<hostname>` "+
		"(`pulumi import flyio:index:Certificate www my-app/www.example.com`).\n\n"+
		"Fly can only issue the certificate once DNS points at the app: create the records in `dnsRecords` "+
		"(e.g. with a DNS provider's resources) and refresh, or let the next `up` re-check. Refresh asks Fly to "+
		"check DNS again. Changing `hostname` or `app` replaces the certificate.")
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.App, "Name of the app that serves the hostname.")
	an.Describe(&a.Hostname, "Fully qualified hostname, e.g. `www.example.com` or `*.example.com`.")
}

// Annotate documents the outputs.
func (s *State) Annotate(a infer.Annotator) {
	a.Describe(&s.Status, "Issuance status as Fly reports it, e.g. `Awaiting configuration` or `Ready`.")
	a.Describe(&s.Configured, "Whether DNS for the hostname is configured so Fly can serve and validate it.")
	a.Describe(&s.DNSRecords, "DNS records to create: `routing` A and AAAA records (or, instead, the `routing` "+
		"CNAME where the name allows one), the `acme-challenge` CNAME for DNS-01 validation (required for "+
		"wildcards, and lets the certificate be issued before traffic moves), and the `ownership` TXT record.")
}

// Annotate documents a DNS record.
func (r *DNSRecord) Annotate(a infer.Annotator) {
	a.Describe(&r.Type, "Record type: `A`, `AAAA`, `CNAME` or `TXT`.")
	a.Describe(&r.Name, "Fully qualified record name.")
	a.Describe(&r.Value, "Record value.")
	a.Describe(&r.Purpose, "Why the record is needed: `routing`, `acme-challenge` or `ownership`.")
}
