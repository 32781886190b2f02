// Package doccheck holds the test that keeps citations of docs/fly-api.md
// working: code and docs cite its facts by anchor (docs/fly-api.md#leases),
// and every anchor cited must be a heading of that page.
package doccheck
