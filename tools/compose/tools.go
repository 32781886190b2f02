//go:build tools

// Package tools pins Docker Compose v2 into this module. `make tools` builds
// it as the docker CLI plugin when the engine's client has none, so the
// Compose backend's tests can check `docker compose -p <project> ps/logs`
// against what the backend labels. A module of its own: compose's go.mod
// has exclude directives that `go install pkg@version` refuses.
package tools

import _ "github.com/docker/compose/v2/cmd"
