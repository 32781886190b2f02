// Package crud is the plumbing every resource controller shares, written
// once: a preview touches nothing, an operation builds its Fly client from
// the controller's factory, a Read that finds nothing reports the resource
// gone, and a Delete of something already gone succeeds.
package crud

import (
	"context"
	"errors"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
	"github.com/emothe/emothe/provider/fly"
)

// Create returns preview(inputs) in a preview, which makes no API call, and
// otherwise runs create with a client.
func Create[A, S any](ctx context.Context, f config.Factory, req infer.CreateRequest[A],
	preview func(A) infer.CreateResponse[S],
	create func(context.Context, fly.Client, A) (infer.CreateResponse[S], error),
) (infer.CreateResponse[S], error) {
	if req.DryRun {
		return preview(req.Inputs), nil
	}
	client, err := f.Client(ctx)
	if err != nil {
		return infer.CreateResponse[S]{}, err
	}
	return create(ctx, client, req.Inputs)
}

// Update returns preview(state, inputs) in a preview, which makes no API
// call, and otherwise runs update with a client.
func Update[A, S any](ctx context.Context, f config.Factory, req infer.UpdateRequest[A, S],
	preview func(old S, in A) S,
	update func(context.Context, fly.Client, infer.UpdateRequest[A, S]) (infer.UpdateResponse[S], error),
) (infer.UpdateResponse[S], error) {
	if req.DryRun {
		return infer.UpdateResponse[S]{Output: preview(req.State, req.Inputs)}, nil
	}
	client, err := f.Client(ctx)
	if err != nil {
		return infer.UpdateResponse[S]{}, err
	}
	return update(ctx, client, req)
}

// Read runs read with a client. An error that is fly.ErrNotFound becomes an
// empty response, which tells the engine the resource no longer exists.
// read must only let ErrNotFound through for the resource itself.
func Read[A, S any](ctx context.Context, f config.Factory,
	read func(context.Context, fly.Client) (infer.ReadResponse[A, S], error),
) (infer.ReadResponse[A, S], error) {
	client, err := f.Client(ctx)
	if err != nil {
		return infer.ReadResponse[A, S]{}, err
	}
	resp, err := read(ctx, client)
	if errors.Is(err, fly.ErrNotFound) {
		return infer.ReadResponse[A, S]{}, nil
	}
	return resp, err
}

// Delete runs del with a client. An error that is fly.ErrNotFound means the
// resource is gone already, which is what a delete wants.
func Delete(ctx context.Context, f config.Factory, del func(context.Context, fly.Client) error) (infer.DeleteResponse, error) {
	client, err := f.Client(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if err := del(ctx, client); err != nil && !errors.Is(err, fly.ErrNotFound) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, nil
}
