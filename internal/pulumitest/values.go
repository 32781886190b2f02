package pulumitest

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Reveal is v with its secret and output wrappers removed.
func Reveal(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() || v.IsOutput() {
		if v.IsSecret() {
			v = v.SecretValue().Element
		} else {
			v = v.OutputValue().Element
		}
	}
	return v
}

// Strings is the revealed elements of the array v.
func Strings(v resource.PropertyValue) []string {
	var out []string
	for _, e := range Reveal(v).ArrayValue() {
		out = append(out, Reveal(e).StringValue())
	}
	return out
}

// Plain is v as text with every secret's value shown as [secret], for
// checking that a secret appears nowhere outside a secret value.
func Plain(v resource.PropertyValue) string {
	switch {
	case v.IsSecret():
		return "[secret]"
	case v.IsOutput():
		if v.OutputValue().Secret {
			return "[secret]"
		}
		return Plain(v.OutputValue().Element)
	case v.IsArray():
		var parts []string
		for _, e := range v.ArrayValue() {
			parts = append(parts, Plain(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case v.IsObject():
		var parts []string
		for k, e := range v.ObjectValue() {
			parts = append(parts, string(k)+":"+Plain(e))
		}
		return "{" + strings.Join(parts, " ") + "}"
	default:
		return v.String()
	}
}
