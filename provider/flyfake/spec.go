package flyfake

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/emothe/emothe/provider/flyapi/spec"
)

// specRouter matches /v1 requests to the operations of Fly's published spec.
// It is built once per process: the parsed document is read-only afterwards.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := specDoc()
	if err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route Machines API spec: %w", err)
	}
	return router, nil
})

// specOperations is the set of the spec's operationIds.
var specOperations = sync.OnceValue(func() map[string]bool {
	ops := map[string]bool{}
	doc, err := specDoc()
	if err != nil {
		return ops
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op.OperationID] = true
		}
	}
	return ops
})

var specDoc = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load Machines API spec: %w", err)
	}
	// The spec's server is https://api.machines.dev/v1; the fake serves the
	// same paths under /v1 on whatever host it listens on.
	doc.Servers = openapi3.Servers{{URL: "/v1"}}
	// PUT and PATCH metadata share an operationId, which the router's own
	// document validation rejects; rename PATCH as the codegen overlay does.
	doc.Paths.Value("/apps/{app_name}/machines/{machine_id}/metadata").Patch.OperationID = "Machines_patch_metadata"
	return doc, nil
})

// validateRequest checks r against its route's parameters and body schema.
// The body is read and put back, so handlers can still decode it.
func validateRequest(r *http.Request, route *routers.Route, params map[string]string) error {
	opts := &openapi3filter.Options{
		// Handlers apply the API's defaults themselves; the body must reach
		// them exactly as the client sent it.
		SkipSettingDefaults: true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	}
	return openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    opts,
	})
}

// describeViolation turns a kin-openapi error into one line naming what is
// wrong and where, without kin-openapi's schema dump.
func describeViolation(err error) string {
	var routeErr *routers.RouteError
	if errors.As(err, &routeErr) {
		if errors.Is(routeErr, routers.ErrMethodNotAllowed) || routeErr.Reason == routers.ErrMethodNotAllowed.Error() {
			return "method not allowed on this path by Fly's Machines API spec"
		}
		return "no operation in Fly's Machines API spec matches this path"
	}
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		return err.Error()
	}
	where := "request body"
	if reqErr.Parameter != nil {
		where = fmt.Sprintf("%s parameter %q", reqErr.Parameter.In, reqErr.Parameter.Name)
	}
	var schemaErr *openapi3.SchemaError
	if !errors.As(reqErr, &schemaErr) {
		if reqErr.Err != nil {
			return fmt.Sprintf("%s: %v", where, reqErr.Err)
		}
		return fmt.Sprintf("%s: %s", where, reqErr.Reason)
	}
	return fmt.Sprintf("%s: %s", where, describeSchemaError(schemaErr))
}

// describeSchemaError names the failing spot and the reason. An allOf wraps
// the real failure; the innermost error has the reason and the full path.
func describeSchemaError(schemaErr *openapi3.SchemaError) string {
	for {
		var inner *openapi3.SchemaError
		if schemaErr.Origin == nil || !errors.As(schemaErr.Origin, &inner) {
			break
		}
		schemaErr = inner
	}
	path := schemaErr.JSONPointer()
	reason := schemaErr.Reason
	if reason == "" {
		reason = fmt.Sprintf("does not match schema field %q", schemaErr.SchemaField)
	}
	if len(path) > 0 {
		return fmt.Sprintf("at /%s: %s", strings.Join(path, "/"), reason)
	}
	return reason
}
