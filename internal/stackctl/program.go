package stackctl

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ErrReported is what a program wrapped by Program returns once it has
// reported its error as a diagnostic.
var ErrReported = errors.New("the program stopped on the error reported above")

// Program wraps run so that its error reaches people as an error diagnostic
// of its own, whose first line says what is wrong. Returned as is, the
// error would open with the engine's "an unhandled error occurred" and a
// multierror list.
//
// The wrapped program still fails: it returns ErrReported. main.go exits with
// the engine's "already reported" status on it, which the CLI prints
// nothing more for; an inline program (the Automation API) has no such
// status, so the engine adds one line after the diagnostic, naming
// ErrReported.
func Program(run pulumi.RunFunc) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		err := run(ctx)
		if err == nil {
			return nil
		}
		if logErr := ctx.Log.Error(err.Error(), nil); logErr != nil {
			return errors.Join(err, logErr)
		}
		return ErrReported
	}
}
