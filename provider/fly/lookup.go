package fly

import (
	"context"
	"errors"
	"fmt"
)

// createdSince finds what an ambiguous create made, for objects with no
// unique natural key (volumes and IPs may share names and regions): the one
// object in after that is not in before and matches. Two or more candidates
// mean someone else created alike objects meanwhile; picking one could adopt
// theirs, so that is an error.
func createdSince[T any](before, after []T, id func(T) string, match func(T) bool) (T, bool, error) {
	seen := make(map[string]bool, len(before))
	for _, b := range before {
		seen[id(b)] = true
	}
	var found []T
	for _, a := range after {
		if !seen[id(a)] && match(a) {
			found = append(found, a)
		}
	}
	var zero T
	switch len(found) {
	case 0:
		return zero, false, nil
	case 1:
		return found[0], true, nil
	default:
		return zero, false, fmt.Errorf("%d new objects match the request, so which one this call created is unknown", len(found))
	}
}

// str dereferences an optional string from the generated types.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// foundBy turns a Get by natural key into a call's recover: ErrNotFound means
// the ambiguous create did not happen.
func foundBy[T any](out *T, get func(context.Context) (T, error)) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		got, err := get(ctx)
		switch {
		case errors.Is(err, ErrNotFound):
			return false, nil
		case err != nil:
			return false, err
		}
		*out = got
		return true, nil
	}
}
