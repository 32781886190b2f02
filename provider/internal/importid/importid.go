// Package importid resolves the IDs of resources that live inside a Fly app
// (volumes, IP addresses, certificates). Fly's own IDs do not say which app
// they belong to and every API path needs it, so the import ID is
// `<app>/<id>` while the resource ID stays Fly's ID.
package importid

import (
	"fmt"
	"strings"
)

// Resolve returns the app and Fly ID for a Read. On refresh the app comes
// from state (stateApp); on import state is empty and id must be
// `<app>/<id>`. what and example name the ID kind in the error, e.g.
// "volume ID" and "my-app/vol_123".
func Resolve(stateApp, id, what, example string) (app, flyID string, err error) {
	if stateApp != "" {
		return stateApp, id, nil
	}
	app, flyID, ok := strings.Cut(id, "/")
	if !ok || app == "" || flyID == "" {
		return "", "", fmt.Errorf("import ID %q is not <app>/<%s>: use e.g. %q", id, what, example)
	}
	return app, flyID, nil
}
