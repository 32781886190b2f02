// Package diff builds the detailed diffs the resources' hand-written Diff
// methods return: each resource decides per property whether a change is an
// in-place update or a replacement.
package diff

import p "github.com/pulumi/pulumi-go-provider"

// Builder accumulates property changes.
type Builder struct {
	changes map[string]p.PropertyDiff
}

// Replace records prop as needing a replacement when changed.
func (b *Builder) Replace(prop string, changed bool) {
	b.set(prop, changed, p.UpdateReplace)
}

// Update records prop as updatable in place when changed.
func (b *Builder) Update(prop string, changed bool) {
	b.set(prop, changed, p.Update)
}

// Kind records prop with an explicit kind, e.g. Add or Delete of a map key.
func (b *Builder) Kind(prop string, kind p.DiffKind) {
	b.set(prop, true, kind)
}

func (b *Builder) set(prop string, changed bool, kind p.DiffKind) {
	if !changed {
		return
	}
	if b.changes == nil {
		b.changes = map[string]p.PropertyDiff{}
	}
	b.changes[prop] = p.PropertyDiff{Kind: kind, InputDiff: true}
}

// Replaces reports whether any recorded change needs a replacement.
func (b *Builder) Replaces() bool {
	for _, c := range b.changes {
		switch c.Kind {
		case p.UpdateReplace, p.AddReplace, p.DeleteReplace:
			return true
		}
	}
	return false
}

// Response is the diff to return. deleteFirst asks the engine to delete the
// old resource before creating its replacement, for resources whose identity
// (an app name, a hostname) cannot exist twice.
func (b *Builder) Response(deleteFirst bool) p.DiffResponse {
	return p.DiffResponse{
		HasChanges:          len(b.changes) > 0,
		DetailedDiff:        b.changes,
		DeleteBeforeReplace: deleteFirst && b.Replaces(),
	}
}
