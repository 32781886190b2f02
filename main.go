// Command emothe-infra is the Pulumi program that deploys Emothe; everything
// it does lives in package infra.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/emothe/emothe/infra"
)

func main() { pulumi.Run(infra.Run) }
