package postgres

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/emothe/emothe/provider/fly"
)

// Fly reports the organization by its real slug; a program that says
// "personal" keeps its spelling, or every refresh would replace the cluster.
func TestInputsKeepThePersonalAlias(t *testing.T) {
	t.Parallel()
	var c fly.PostgresCluster
	c.Organization.Slug = "jane-doe"
	assert.Equal(t, "personal", inputs(Args{Org: "personal"}, c).Org)
	assert.Equal(t, "jane-doe", inputs(Args{Org: "theatre"}, c).Org, "a real slug follows Fly")
}
