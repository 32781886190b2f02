// Package stack is what every backend shares: the settings common to all of
// them, the loader that reads and validates a stack's configuration once,
// before anything is registered, and the steps a backend is driven through.
//
// A backend lives in one folder (infra/fly, infra/compose). It gives the
// registry (infra.Backends) a Platform: its name, its own settings and
// inputs, and a Load that validates them with the shared Reader and plans
// the deployment, registering nothing. The plan is deployed through the
// Steps interface, whose data flow is in its signatures:
//
//	config (Raw) --Registry.Load--> Config + the backend's plan
//	Base -> Image, Database -> Secrets(env from Database) -> App(image, db, secrets)
//
// Only the selected backend's settings are read, so a setting of another
// backend can never stop a stack. Pulumi.yaml's config block and the
// README's table are generated from the registry (infra's tests check
// them; `go test ./infra -run TestProjectFiles -update` rewrites them).
package stack
