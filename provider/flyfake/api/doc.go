// Package api is the strict HTTP server interface and models that oapi-codegen
// generates from Fly's Machines API spec (provider/flyapi/spec). The fake in
// package flyfake implements StrictServerInterface.
package api

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.5.0 -config server.cfg.yaml ../../flyapi/spec/machines-openapi.json
