// Package conformance drives the Fly fake (provider/flyfake) the way Fly's
// own Go client, fly-go's flaps package (which flyctl uses), drives the
// Machines API, and asserts that the fake behaves as Fly does.
//
// fly-go cannot be fetched here, so its tests carry a small client that
// writes requests as flaps writes them: Go structs marshalled with their
// nulls (pointers without omitempty), leases as ?ttl= with no body,
// booleans for a service's autostop, secret-key values as base64, {"values":
// {"K": null}} to unset a secret, DELETE …?kill=true, and a JSON decode of
// every answer it reads, Start's included. The shapes follow
// docs/fly-api.md#what-fly-accepts-beyond-the-spec.
//
// Every test ends by asserting that the fake refused none of these requests
// (each is still recorded as a strict violation, which the project's own
// client must not produce) and that none of its answers broke the spec.
package conformance
