package flyfake

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

var hostname = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)

// certificate is a hostname with an ACME certificate. It is issued by the
// first check, standing in for DNS validation the fake cannot do.
type certificate struct {
	hostname  string
	createdAt time.Time
	issuedAt  time.Time // zero until a check issues it
}

func (c *certificate) status() string {
	if c.issuedAt.IsZero() {
		return "Awaiting certificates"
	}
	return "Ready"
}

func (h handlers) findCert(appName, host string) (*app, *certificate, error) {
	a, err := h.findApp(appName)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range a.certs {
		if c.hostname == host {
			return a, c, nil
		}
	}
	return nil, nil, errorf(http.StatusNotFound, "certificate not found: %s", host)
}

// certDetail renders c with the DNS records Fly asks the owner to create.
func (a *app) certDetail(c *certificate) api.CertificateDetail {
	issued := !c.issuedAt.IsZero()
	entry := api.CertificateEntry{
		Source:    new(api.Fly),
		Status:    new(api.PendingValidation),
		CreatedAt: new(timestamp(c.createdAt)),
	}
	if issued {
		expires := timestamp(c.issuedAt.Add(90 * 24 * time.Hour))
		entry.Status = new(api.Active)
		entry.ExpiresAt = new(expires)
		entry.Issuer = new("flyfake CA")
		entry.Issued = &[]api.IssuedCertificate{
			{Type: new(api.Ecdsa), ExpiresAt: new(expires), CertificateAuthority: new("flyfake CA")},
			{Type: new(api.Rsa), ExpiresAt: new(expires), CertificateAuthority: new("flyfake CA")},
		}
	}
	return api.CertificateDetail{
		Hostname:      new(c.hostname),
		Status:        new(c.status()),
		Configured:    new(issued),
		AcmeRequested: new(true),
		Certificates:  &[]api.CertificateEntry{entry},
		Validation: &api.CertificateValidation{
			DnsConfigured:  new(issued),
			AlpnConfigured: new(issued),
			HttpConfigured: new(issued),
		},
		DnsRequirements: &api.DNSRequirements{
			A:     new(a.ipsOf("v4", "shared_v4")),
			Aaaa:  new(a.ipsOf("v6")),
			Cname: new(a.name + ".fly.dev"),
			AcmeChallenge: &api.AcmeChallenge{
				Name:   new("_acme-challenge." + c.hostname),
				Target: new(c.hostname + "." + a.id + ".flydns.net"),
			},
			Ownership: &api.OwnershipVerification{
				Name:     new("_fly-ownership." + c.hostname),
				AppValue: new("app-" + a.id),
				OrgValue: new("org-" + a.org),
			},
		},
	}
}

// AppCertificatesAcmeCreate adds a hostname. Adding one the app already has
// returns it again, so a retried create succeeds.
func (h handlers) AppCertificatesAcmeCreate(_ context.Context, req api.AppCertificatesAcmeCreateRequestObject) (api.AppCertificatesAcmeCreateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	host := deref(req.Body.Hostname)
	if !hostname.MatchString(host) {
		return nil, errorf(http.StatusUnprocessableEntity, "hostname %q is not a valid lowercase DNS name", host)
	}
	i := slices.IndexFunc(a.certs, func(c *certificate) bool { return c.hostname == host })
	if i < 0 {
		a.certs = append(a.certs, &certificate{hostname: host, createdAt: now})
		i = len(a.certs) - 1
	}
	return api.AppCertificatesAcmeCreate201JSONResponse(a.certDetail(a.certs[i])), nil
}

func (h handlers) AppCertificatesShow(_ context.Context, req api.AppCertificatesShowRequestObject) (api.AppCertificatesShowResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, c, err := h.findCert(req.AppName, req.Hostname)
	if err != nil {
		return nil, err
	}
	return api.AppCertificatesShow200JSONResponse(a.certDetail(c)), nil
}

// AppCertificatesCheck validates DNS and issues the certificate; in the fake
// validation always succeeds.
func (h handlers) AppCertificatesCheck(_ context.Context, req api.AppCertificatesCheckRequestObject) (api.AppCertificatesCheckResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, c, err := h.findCert(req.AppName, req.Hostname)
	if err != nil {
		return nil, err
	}
	if c.issuedAt.IsZero() {
		c.issuedAt = now
	}
	d := a.certDetail(c)
	return api.AppCertificatesCheck200JSONResponse{
		Hostname:        d.Hostname,
		Status:          d.Status,
		Configured:      d.Configured,
		AcmeRequested:   d.AcmeRequested,
		Certificates:    d.Certificates,
		Validation:      d.Validation,
		DnsRequirements: d.DnsRequirements,
		DnsRecords: &api.DNSRecords{
			A:    d.DnsRequirements.A,
			Aaaa: d.DnsRequirements.Aaaa,
			// Fly answers an array, never null, even when nothing resolves.
			ResolvedAddresses: new(append([]string{}, slices.Concat(*d.DnsRequirements.A, *d.DnsRequirements.Aaaa)...)),
		},
	}, nil
}

func (h handlers) AppCertificatesList(_ context.Context, req api.AppCertificatesListRequestObject) (api.AppCertificatesListResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	certs := []api.CertificateSummary{}
	for _, c := range a.certs {
		issued := !c.issuedAt.IsZero()
		certs = append(certs, api.CertificateSummary{
			Hostname:          new(c.hostname),
			Status:            new(c.status()),
			Configured:        new(issued),
			AcmeRequested:     new(true),
			HasFlyCertificate: new(issued),
			CreatedAt:         new(timestamp(c.createdAt)),
		})
	}
	return api.AppCertificatesList200JSONResponse{Certificates: &certs, TotalCount: new(len(certs))}, nil
}

func (h handlers) AppCertificatesDelete(_ context.Context, req api.AppCertificatesDeleteRequestObject) (api.AppCertificatesDeleteResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, c, err := h.findCert(req.AppName, req.Hostname)
	if err != nil {
		return nil, err
	}
	a.certs = slices.DeleteFunc(a.certs, func(x *certificate) bool { return x == c })
	return api.AppCertificatesDelete204Response{}, nil
}
