// Package opt bridges the generated Fly client's optional (pointer) fields and
// the provider's plain values.
package opt

// Val returns *v, or the zero value when v is nil.
func Val[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}

// NonZero returns &v, or nil when v is the zero value, so unset inputs are
// omitted from requests instead of sent as empty values.
func NonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Or returns *v, or def when v is nil or points at the zero value: Fly leaves
// fields out or empty, and the provider then keeps what it already knows.
func Or[T comparable](v *T, def T) T {
	var zero T
	if v == nil || *v == zero {
		return def
	}
	return *v
}
