package stack

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// ErrProtected marks a destroy refused because the stack protects its
// database.
var ErrProtected = errors.New("the database is protected")

// RefuseDestroy refuses, before the engine starts, a destroy of a stack
// that protects its database (emothe:protectDatabase, or production). The
// engine would refuse too, but only once it reached a protected resource,
// naming that resource's URN and `pulumi state unprotect`; this names the
// setting and the backend's runbook. It reads only the settings it needs,
// so a stack whose other settings went bad can still be destroyed.
func (g Registry) RefuseDestroy(raw Raw) error {
	r := newReader(raw, g.Settings())
	protect := r.Boolean("protectDatabase")
	env := r.Get("environment")
	if !protect && env != "production" {
		return nil
	}
	why := "emothe:protectDatabase is true"
	if !protect {
		why = "emothe:environment is production, which always protects it"
	}
	runbook := "the backend's runbook in docs/"
	for _, p := range g {
		if p.Name != r.Get(backendKey) {
			continue
		}
		if p.RetainsData {
			return nil
		}
		if p.Runbook != "" {
			runbook = p.Runbook
		}
	}
	return fmt.Errorf("%w: %s, so stack %s refuses destroy, and nothing was deleted; "+
		"to take the stack down on purpose (the database stays), follow %s; to let destroy delete it too, "+
		"pulumi config set %s:protectDatabase false --stack %s, run up, then destroy (not in production)",
		ErrProtected, why, r.Stack(), runbook, Namespace, r.Stack())
}

// RawFromConfig is a stack's configuration as the Automation API returns
// it (auto.Stack.GetAllConfig), as the loader reads it: for a tool that
// checks a stack (RefuseDestroy) without running the program.
func RawFromConfig(stackName string, cfg auto.ConfigMap) Raw {
	raw := Raw{Stack: stackName, Values: map[string]string{}, Secrets: map[string]bool{}, Inputs: map[string]string{}}
	for key, v := range cfg {
		if k, ok := strings.CutPrefix(key, Namespace+":"); ok {
			raw.Values[k], raw.Secrets[k] = v.Value, v.Secret
		} else {
			raw.Inputs[key] = v.Value
		}
	}
	return raw
}

// Value is key's value in raw, or its declared default (the backend's
// default for emothe:backend): for a tool that needs one setting of a
// stack (the recovery of an interrupted run) without loading the rest.
func (g Registry) Value(raw Raw, key string) string {
	return newReader(raw, g.Settings()).Get(key)
}
