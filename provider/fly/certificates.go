package fly

import (
	"context"
	"errors"
	"net/http"

	"github.com/emothe/emothe/provider/flyapi"
)

func (c *APIClient) CreateACMECertificate(ctx context.Context, app, hostname string) (flyapi.CertificateDetail, error) {
	var cert flyapi.CertificateDetail
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.AppCertificatesAcmeCreate(ctx, app, flyapi.CreateAcmeCertificateRequest{Hostname: &hostname})
		},
		out: &cert,
		// A hostname has one certificate entry per app, so it finds the result.
		recover: foundBy(&cert, func(ctx context.Context) (flyapi.CertificateDetail, error) {
			return c.GetCertificate(ctx, app, hostname)
		}),
	})
	return cert, err
}

func (c *APIClient) GetCertificate(ctx context.Context, app, hostname string) (flyapi.CertificateDetail, error) {
	var cert flyapi.CertificateDetail
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.AppCertificatesShow(ctx, app, hostname)
		},
		out: &cert,
	})
	return cert, err
}

func (c *APIClient) CheckCertificate(ctx context.Context, app, hostname string) (flyapi.CertificateCheckResponse, error) {
	var check flyapi.CertificateCheckResponse
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.AppCertificatesCheck(ctx, app, hostname)
		},
		out: &check,
	})
	return check, err
}

func (c *APIClient) DeleteCertificate(ctx context.Context, app, hostname string) error {
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.AppCertificatesDelete(ctx, app, hostname)
		},
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
