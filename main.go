// Command emothe-infra is the Pulumi program that deploys Emothe; everything
// it does lives in package infra.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/constant"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra"
	"github.com/emothe/emothe/internal/stackctl"
)

func main() {
	program := stackctl.Program(infra.Run)
	// pulumi.Run would log the error once more, opened by "an unhandled
	// error occurred"; Program has reported it already.
	err := pulumi.RunErr(program)
	switch {
	case err == nil:
	case errors.Is(err, pulumi.ErrPlugins):
		pulumi.Run(program) // the language host asks which plugins: Run prints them
	case errors.Is(err, stackctl.ErrReported):
		// The status that tells the engine the error is already reported.
		os.Exit(constant.ExitStatusLoggedError)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
