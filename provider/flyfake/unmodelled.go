package flyfake

import (
	"context"
	"net/http"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// The operations below are in the spec but outside what the project's
// provider uses; the fake validates calls to them and then answers 501, so
// a client that starts relying on one finds out at once.

func unmodelled(op string) error {
	return errorf(http.StatusNotImplemented, "flyfake does not model %s", op)
}

func (handlers) AppCertificatesCustomCreate(context.Context, api.AppCertificatesCustomCreateRequestObject) (api.AppCertificatesCustomCreateResponseObject, error) {
	return nil, unmodelled("App_Certificates_custom_create")
}

func (handlers) AppCertificatesAcmeDelete(context.Context, api.AppCertificatesAcmeDeleteRequestObject) (api.AppCertificatesAcmeDeleteResponseObject, error) {
	return nil, unmodelled("App_Certificates_acme_delete")
}

func (handlers) AppCertificatesCustomDelete(context.Context, api.AppCertificatesCustomDeleteRequestObject) (api.AppCertificatesCustomDeleteResponseObject, error) {
	return nil, unmodelled("App_Certificates_custom_delete")
}

func (handlers) MachinesExec(context.Context, api.MachinesExecRequestObject) (api.MachinesExecResponseObject, error) {
	return nil, unmodelled("Machines_exec")
}

func (handlers) MachinesListProcesses(context.Context, api.MachinesListProcessesRequestObject) (api.MachinesListProcessesResponseObject, error) {
	return nil, unmodelled("Machines_list_processes")
}

func (handlers) MachinesGetMemory(context.Context, api.MachinesGetMemoryRequestObject) (api.MachinesGetMemoryResponseObject, error) {
	return nil, unmodelled("Machines_get_memory")
}

func (handlers) MachinesSetMemoryLimit(context.Context, api.MachinesSetMemoryLimitRequestObject) (api.MachinesSetMemoryLimitResponseObject, error) {
	return nil, unmodelled("Machines_set_memory_limit")
}

func (handlers) MachinesReclaimMemory(context.Context, api.MachinesReclaimMemoryRequestObject) (api.MachinesReclaimMemoryResponseObject, error) {
	return nil, unmodelled("Machines_reclaim_memory")
}

func (handlers) SecretkeyDecrypt(context.Context, api.SecretkeyDecryptRequestObject) (api.SecretkeyDecryptResponseObject, error) {
	return nil, unmodelled("Secretkey_decrypt")
}

func (handlers) SecretkeyEncrypt(context.Context, api.SecretkeyEncryptRequestObject) (api.SecretkeyEncryptResponseObject, error) {
	return nil, unmodelled("Secretkey_encrypt")
}

func (handlers) SecretkeyGenerate(context.Context, api.SecretkeyGenerateRequestObject) (api.SecretkeyGenerateResponseObject, error) {
	return nil, unmodelled("Secretkey_generate")
}

func (handlers) SecretkeySign(context.Context, api.SecretkeySignRequestObject) (api.SecretkeySignResponseObject, error) {
	return nil, unmodelled("Secretkey_sign")
}

func (handlers) SecretkeyVerify(context.Context, api.SecretkeyVerifyRequestObject) (api.SecretkeyVerifyResponseObject, error) {
	return nil, unmodelled("Secretkey_verify")
}

func (handlers) VolumesListSnapshots(context.Context, api.VolumesListSnapshotsRequestObject) (api.VolumesListSnapshotsResponseObject, error) {
	return nil, unmodelled("Volumes_list_snapshots")
}

func (handlers) CreateVolumeSnapshot(context.Context, api.CreateVolumeSnapshotRequestObject) (api.CreateVolumeSnapshotResponseObject, error) {
	return nil, unmodelled("createVolumeSnapshot")
}

func (handlers) MachinesOrgList(context.Context, api.MachinesOrgListRequestObject) (api.MachinesOrgListResponseObject, error) {
	return nil, unmodelled("Machines_org_list")
}

func (handlers) VolumesOrgList(context.Context, api.VolumesOrgListRequestObject) (api.VolumesOrgListResponseObject, error) {
	return nil, unmodelled("Volumes_org_list")
}

func (handlers) PlatformPlacementsPost(context.Context, api.PlatformPlacementsPostRequestObject) (api.PlatformPlacementsPostResponseObject, error) {
	return nil, unmodelled("Platform_placements_post")
}

func (handlers) PlatformRegionsGet(context.Context, api.PlatformRegionsGetRequestObject) (api.PlatformRegionsGetResponseObject, error) {
	return nil, unmodelled("Platform_regions_get")
}

func (handlers) TokensAuthenticate(context.Context, api.TokensAuthenticateRequestObject) (api.TokensAuthenticateResponseObject, error) {
	return nil, unmodelled("Tokens_authenticate")
}

func (handlers) TokensAuthorize(context.Context, api.TokensAuthorizeRequestObject) (api.TokensAuthorizeResponseObject, error) {
	return nil, unmodelled("Tokens_authorize")
}

func (handlers) CurrentTokenShow(context.Context, api.CurrentTokenShowRequestObject) (api.CurrentTokenShowResponseObject, error) {
	return nil, unmodelled("CurrentToken_show")
}
