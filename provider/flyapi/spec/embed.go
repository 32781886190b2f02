// Package spec holds Fly's published Machines API description, embedded so the
// fake (provider/flyfake) can validate requests against the same file the
// client is generated from.
package spec

import _ "embed"

// OpenAPI is machines-openapi.json: Fly's OpenAPI 3.0.1 description of the
// Machines API, whose paths carry no /v1 prefix.
//
//go:embed machines-openapi.json
var OpenAPI []byte
